"""The report: the summary of a period and its daily series, from facts and metrics.

Days are the company's local days (``Settings.timezone``); ``from`` and ``to``
are both included. JSON-ready: money is a string with two decimals.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Dict, List, Optional, Sequence, Tuple
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.analytics import facts as fact_data
from bot.analytics import metrics
from bot.analytics.facts import Facts


@dataclass(frozen=True)
class Period:
    first_day: dt.date
    last_day: dt.date
    channel: Optional[str]
    tz: ZoneInfo

    @property
    def start(self) -> dt.datetime:
        return local_midnight(self.first_day, self.tz)

    @property
    def end(self) -> dt.datetime:
        return local_midnight(self.last_day + dt.timedelta(days=1), self.tz)

    def days(self) -> List[dt.date]:
        return [self.first_day + dt.timedelta(days=n) for n in range((self.last_day - self.first_day).days + 1)]


@dataclass(frozen=True)
class Windows:
    """The report's settings (bot.config: BOT_REPORT_*)."""

    reopen_days: int
    recovery_days: int
    abandon_seconds: float


def local_midnight(day: dt.date, tz: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=tz).astimezone(dt.timezone.utc)


def money(amount: Decimal) -> str:
    return str(Decimal(amount).quantize(Decimal("0.01")))


def ordered_stages(counts: Dict[str, Any], stage_order: Sequence[str]) -> List[str]:
    """The policy's stage order first, any other stage after it by name."""
    known = [s for s in stage_order if s in counts]
    return known + sorted(s for s in counts if s not in stage_order)


def summarize(facts: Facts, windows: Windows, as_of: dt.datetime, stage_order: Sequence[str] = ()) -> Dict[str, Any]:
    """Every figure of one period (or one day: the same definitions on that day's facts)."""
    by_stage = metrics.reminders_by_stage(facts.reminders)
    recovered = metrics.recovered_by_stage(facts.payments, windows.recovery_days)
    retries = metrics.card_retries(facts.attempts)
    contained = metrics.containment(facts.conversations, windows.reopen_days)
    return {
        "conversations": contained["conversations"],
        "containment_rate": contained["rate"],
        "containment": contained,
        "first_contact_resolution": metrics.first_contact_resolution(facts.conversations, windows.reopen_days),
        "handoffs": len(facts.handoffs),
        "handoffs_by_reason": metrics.count_by(facts.handoffs, "reason"),
        "handoffs_by_channel": metrics.count_by(facts.handoffs, "channel"),
        "queue_wait_seconds": metrics.queue_wait_seconds(facts.handoffs),
        "first_response_seconds": metrics.first_response_seconds(facts.handoffs),
        "resolution_seconds": metrics.resolution_seconds(facts.resolved),
        "abandoned": metrics.abandoned(facts.handoffs, windows.abandon_seconds, min(as_of, facts.end)),
        "csat": metrics.csat(facts.ratings),
        "reminders_by_stage": {s: by_stage[s] for s in ordered_stages(by_stage, stage_order)},
        "recovered_by_stage": {
            s: {"payments": recovered[s]["payments"], "amount": money(recovered[s]["amount"])}
            for s in ordered_stages(recovered, stage_order)
        },
        "recovered_total": money(sum((v["amount"] for v in recovered.values()), Decimal("0"))),
        "promises": metrics.promises(facts.promises),
        "card_retries": {**retries, "amount": money(retries["amount"])},
    }


# Each kind of fact, and the moment that places it in a day. Hour buckets are UTC hours: exact
# for time zones a whole number of hours from UTC (in a half-hour zone a bucket goes to the day
# its hour starts in; the period's first one, which starts before the period, to the first day).
_WHEN = (
    ("conversations", lambda f: f.hour),
    ("resolved", lambda f: f.created_at),
    ("handoffs", lambda f: f.requested_at),
    ("ratings", lambda f: f.hour),
    ("reminders", lambda f: f.hour),
    ("payments", lambda f: f.paid_at),
    ("attempts", lambda f: f.attempted_at),
)


def split_by_day(facts: Facts, period: Period) -> Dict[dt.date, Facts]:
    """The period's facts cut into local days: a moment belongs to the day of the last local
    midnight at or before it (a binary search among the period's midnights per fact, no time
    zone arithmetic)."""
    days = period.days()
    midnights = [local_midnight(day, period.tz) for day in days] + [period.end]
    buckets: Dict[dt.date, Dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for name, when in _WHEN:
        for item in getattr(facts, name):
            buckets[days[bisect_right(midnights, when(item), 1, len(days)) - 1]][name].append(item)
    for promise in facts.promises:
        buckets[promise.promised_date]["promises"].append(promise)
    split = {}
    for n, day in enumerate(days):
        parts = buckets.get(day, {})
        split[day] = Facts(
            start=midnights[n],
            end=midnights[n + 1],
            **{name: parts.get(name, []) for name, _ in _WHEN},
            promises=parts.get("promises", []),
        )
    return split


def daily_row(day: dt.date, summary: Dict[str, Any]) -> Dict[str, Any]:
    """One day's figures, flat (for charts and CSV)."""
    return {
        "date": day.isoformat(),
        "conversations": summary["conversations"],
        "containment_rate": summary["containment_rate"],
        "first_contact_resolution_rate": summary["first_contact_resolution"]["rate"],
        "handoffs": summary["handoffs"],
        "queue_wait_p50_seconds": summary["queue_wait_seconds"]["p50"],
        "queue_wait_p90_seconds": summary["queue_wait_seconds"]["p90"],
        "first_response_p50_seconds": summary["first_response_seconds"]["p50"],
        "resolution_p50_seconds": summary["resolution_seconds"]["p50"],
        "abandoned": summary["abandoned"]["count"],
        "ratings": summary["csat"]["ratings"],
        "csat_score": summary["csat"]["score"],
        "reminders": sum(summary["reminders_by_stage"].values()),
        "recovered_amount": summary["recovered_total"],
        "card_retries_recovered": summary["card_retries"]["recovered"],
    }


DAILY_COLUMNS: Tuple[str, ...] = (
    "date",
    "conversations",
    "containment_rate",
    "first_contact_resolution_rate",
    "handoffs",
    "queue_wait_p50_seconds",
    "queue_wait_p90_seconds",
    "first_response_p50_seconds",
    "resolution_p50_seconds",
    "abandoned",
    "ratings",
    "csat_score",
    "reminders",
    "recovered_amount",
    "card_retries_recovered",
)


def period_view(period: Period, windows: Windows) -> Dict[str, Any]:
    return {
        "from": period.first_day.isoformat(),
        "to": period.last_day.isoformat(),
        "channel": period.channel,
        "timezone": str(period.tz),
        "reopen_days": windows.reopen_days,
        "recovery_days": windows.recovery_days,
        "abandon_seconds": windows.abandon_seconds,
    }


async def load_facts(session: AsyncSession, period: Period, windows: Windows) -> Facts:
    return await fact_data.load(
        session, period.start, period.end, period.first_day, period.last_day, period.channel, windows.reopen_days
    )


async def summary(
    session: AsyncSession, period: Period, windows: Windows, as_of: dt.datetime, stage_order: Sequence[str] = ()
) -> Dict[str, Any]:
    facts = await load_facts(session, period, windows)
    return {"period": period_view(period, windows), **summarize(facts, windows, as_of, stage_order)}


async def daily(
    session: AsyncSession, period: Period, windows: Windows, as_of: dt.datetime, stage_order: Sequence[str] = ()
) -> Dict[str, Any]:
    facts = await load_facts(session, period, windows)
    days = split_by_day(facts, period)
    return {
        "period": period_view(period, windows),
        "days": [daily_row(day, summarize(days[day], windows, as_of, stage_order)) for day in period.days()],
    }
