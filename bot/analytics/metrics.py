"""Every report figure, defined once: pure functions over the facts (no database).

The README's "Reports" section says each definition in plain words; keep the two
in step. Times are aware datetimes; a period is ``[start, end)``. A figure over
nothing (no conversations, no ratings) is ``None``, never a made-up 0.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from decimal import Decimal
from typing import Dict, Iterable, Optional, Sequence, TypedDict

from bot.analytics.facts_types import (
    AttemptFact,
    ConversationFact,
    HandoffFact,
    PaymentFact,
    PromiseFact,
    RatingFact,
    ReminderFact,
    ResolvedFact,
)

SATISFIED = (4, 5)


class Recovered(TypedDict):
    """Payments counted for one dunning stage, and their sum."""

    payments: int
    amount: Decimal


class CardRetries(TypedDict):
    retries: int
    recovered: int
    amount: Decimal
    rate: Optional[float]


def share(part: int, whole: int) -> Optional[float]:
    """part / whole rounded to 4 places; None when there is nothing to divide."""
    return round(part / whole, 4) if whole else None


def percentile(values: Sequence[float], p: float) -> Optional[float]:
    """Nearest-rank percentile: the smallest value with at least p% of the values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def durations(values: Sequence[float]) -> Dict[str, Optional[float]]:
    """count, p50, p90 and mean of a list of seconds."""
    return {
        "count": len(values),
        "p50": percentile(values, 50),
        "p90": percentile(values, 90),
        "mean": round(sum(values) / len(values), 1) if values else None,
    }


def _seconds(later: dt.datetime, earlier: dt.datetime) -> float:
    return (later - earlier).total_seconds()


# -- conversations -------------------------------------------------------------------------------


def is_reopened(fact: ConversationFact, reopen_days: int) -> bool:
    """The same customer (the verified customer on any channel, else the same widget session or
    email thread) started another conversation no later than ``reopen_days`` after this one ended."""
    return fact.days_to_return <= reopen_days


def containment(conversations: Sequence[ConversationFact], reopen_days: int) -> Dict[str, object]:
    """Contained: ended without any handoff to a person and not reopened. Rate over all conversations."""
    total = sum(c.n for c in conversations)
    contained = sum(c.n for c in conversations if not c.handed_off and not is_reopened(c, reopen_days))
    return {"conversations": total, "contained": contained, "rate": share(contained, total)}


def first_contact_resolution(conversations: Sequence[ConversationFact], reopen_days: int) -> Dict[str, object]:
    """Resolved on first contact: not reopened (with or without a person). Rate over all conversations."""
    total = sum(c.n for c in conversations)
    resolved = sum(c.n for c in conversations if not is_reopened(c, reopen_days))
    return {"conversations": total, "resolved_first_time": resolved, "rate": share(resolved, total)}


def resolution_seconds(resolved: Sequence[ResolvedFact]) -> Dict[str, Optional[float]]:
    """From the conversation's start to its resolution, for conversations marked resolved."""
    return durations([r.seconds for r in resolved])


# -- handoffs ------------------------------------------------------------------------------------


def count_by(items: Iterable[object], attribute: str) -> Dict[str, int]:
    """How many items have each value of ``attribute``, largest first (ties by name)."""
    counts = Counter(getattr(item, attribute) for item in items)
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def queue_wait_seconds(handoffs: Sequence[HandoffFact]) -> Dict[str, Optional[float]]:
    """From the handoff request until an agent took the conversation, for handoffs that were taken."""
    return durations([_seconds(h.taken_at, h.requested_at) for h in handoffs if h.taken_at is not None])


def first_response_seconds(handoffs: Sequence[HandoffFact]) -> Dict[str, Optional[float]]:
    """From the handoff request until the first message an agent wrote in that conversation."""
    return durations(
        [_seconds(h.first_agent_reply_at, h.requested_at) for h in handoffs if h.first_agent_reply_at is not None]
    )


def abandoned(handoffs: Sequence[HandoffFact], timeout_seconds: float, as_of: dt.datetime) -> Dict[str, object]:
    """Abandoned: no agent ever took it, and it waited longer than the abandon timeout, whether
    it ended untaken (handed back, closed from the queue) or is still waiting at ``as_of``."""
    count = 0
    for h in handoffs:
        if h.taken_at is None and _seconds(h.ended_at or as_of, h.requested_at) > timeout_seconds:
            count += 1
    return {
        "handoffs": len(handoffs),
        "count": count,
        "rate": share(count, len(handoffs)),
        "timeout_seconds": timeout_seconds,
    }


# -- satisfaction --------------------------------------------------------------------------------


def csat(ratings: Sequence[RatingFact]) -> Dict[str, object]:
    """CSAT: the share of ratings that are 4 or 5, and how many of each 1-5."""
    distribution = {str(score): 0 for score in range(1, 6)}
    for r in ratings:
        distribution[str(r.rating)] += r.n
    total = sum(distribution.values())
    satisfied = sum(distribution[str(score)] for score in SATISFIED)
    return {"ratings": total, "satisfied": satisfied, "score": share(satisfied, total), "distribution": distribution}


# -- dunning -------------------------------------------------------------------------------------


def reminders_by_stage(reminders: Sequence[ReminderFact]) -> Dict[str, int]:
    counts: Counter = Counter()
    for r in reminders:
        counts[r.stage] += r.n
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def recovered_by_stage(payments: Sequence[PaymentFact], recovery_days: int) -> Dict[str, Recovered]:
    """Each payment counts for the stage of the LAST reminder of its invoice sent at or before it,
    when that reminder went out at most ``recovery_days`` earlier; other payments count for no stage."""
    window = dt.timedelta(days=recovery_days)
    result: Dict[str, Recovered] = {}
    for payment in payments:
        # The stage and the time come from the same reminder: both None when there was none.
        if payment.last_stage is None or payment.last_sent_at is None:
            continue
        if payment.paid_at - payment.last_sent_at > window:
            continue
        entry = result.setdefault(payment.last_stage, {"payments": 0, "amount": Decimal("0.00")})
        entry["payments"] += 1
        entry["amount"] += payment.amount
    return result


def promises(facts: Sequence[PromiseFact]) -> Dict[str, object]:
    """Promises to pay due in the period, by status; kept share = kept / (kept + broken)."""
    counts = {status: 0 for status in ("kept", "broken", "active", "cancelled")}
    for fact in facts:
        counts[fact.status] = counts.get(fact.status, 0) + fact.n
    return {**counts, "kept_share": share(counts["kept"], counts["kept"] + counts["broken"])}


def card_retries(attempts: Sequence[AttemptFact]) -> CardRetries:
    """A retry is a charge attempt on an invoice that had a soft decline before it; recovered:
    retries that succeeded (count and amount)."""
    retries = [a for a in attempts if a.after_soft_decline]
    recovered = [a for a in retries if a.outcome == "succeeded"]
    amount = sum((a.amount for a in recovered), Decimal("0.00"))
    tried, won = sum(a.n for a in retries), sum(a.n for a in recovered)
    return {"retries": tried, "recovered": won, "amount": amount, "rate": share(won, tried)}
