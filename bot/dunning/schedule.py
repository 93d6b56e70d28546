"""Pure decisions: which stage is due, what stops or pauses it, quiet hours, retries.

No I/O and no clock: every function is given the day or the moment it decides for.
"""

from __future__ import annotations

import datetime as dt
from typing import Collection, Dict, List, Optional, Sequence
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.dunning.policy import Policy, Stage
from bot.dunning.rows import AttemptRow, OpenInvoice, PromiseRow


def aware(moment: dt.datetime) -> dt.datetime:
    """SQLite hands timestamps back without a zone; they were stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


def stage_due(policy: Policy, days_overdue: int, sent: Collection[str]) -> Optional[Stage]:
    """The latest stage the invoice has reached, unless it (or a later one) was already sent.

    Stages missed while paused are skipped, not sent late; a notice meant for before the
    due date is not sent once the invoice is due.
    """
    reached = [s for s in policy.stages if s.day <= days_overdue]
    if not reached:
        return None
    stage = reached[-1]
    if stage.day < 0 <= days_overdue:
        return None
    later_or_same = {s.name for s in policy.stages if s.day >= stage.day}
    if later_or_same & set(sent):
        return None
    return stage


def promise_covers(promise: PromiseRow, invoice: OpenInvoice) -> bool:
    """A promise about one invoice pauses that invoice; one about none pauses them all."""
    return promise.customer_id == invoice.account.id and promise.invoice_id in (None, invoice.id)


def hold_reason(
    invoice: OpenInvoice, today: dt.date, promises: Sequence[PromiseRow], held_customers: Collection[int]
) -> Optional[str]:
    """Why no reminder goes out for this invoice now (stops first, then pauses); None to go ahead."""
    account = invoice.account
    if invoice.amount_due <= 0:
        return "paid in full"
    if account.opted_out:
        return "opted out of reminders"
    if account.undeliverable:
        return "email address bounced"
    if account.id in held_customers:
        return "a person holds the customer's conversation"
    for promise in promises:
        if promise_covers(promise, invoice) and promise.promised_date >= today:
            return f"promise to pay by {promise.promised_date.isoformat()}"
    return None


def local_time(now: dt.datetime, timezone: str, fallback: str) -> dt.datetime:
    """``now`` on the customer's clock (the company's when their zone is unknown)."""
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo(fallback)
    return aware(now).astimezone(zone)


def in_quiet_hours(policy: Policy, now: dt.datetime, timezone: str, fallback: str) -> bool:
    if policy.quiet_hours is None:
        return False
    return policy.quiet_hours.contains(local_time(now, timezone, fallback).time())


def declines_in_a_row(attempts: Sequence[AttemptRow]) -> List[AttemptRow]:
    """The declined attempts since the last success, oldest first."""
    run: List[AttemptRow] = []
    for attempt in attempts:
        run = [] if attempt.outcome == "succeeded" else run + [attempt]
    return run


def retry_number_due(policy: Policy, attempts: Sequence[AttemptRow], now: dt.datetime) -> Optional[int]:
    """Which retry (1, 2, ...) of a soft-declined card is due now; None when none is.

    Retries are counted from the first decline, and never within a day of the last
    attempt: after a pause the missed retries catch up one a day, not in a burst.
    """
    declines = declines_in_a_row(attempts)
    if not declines or declines[-1].decline_type != "soft":
        return None
    number = len(declines)  # retries made so far: number - 1
    if number > len(policy.soft_retry_days):
        return None
    due_at = max(
        aware(declines[0].attempted_at) + dt.timedelta(days=policy.soft_retry_days[number - 1]),
        aware(declines[-1].attempted_at) + dt.timedelta(days=1),
    )
    return number if aware(now) >= due_at else None


def hard_decline(attempts: Sequence[AttemptRow]) -> Optional[AttemptRow]:
    """The latest attempt when it was a hard decline (the card must not be tried again)."""
    if attempts and attempts[-1].outcome == "declined" and attempts[-1].decline_type == "hard":
        return attempts[-1]
    return None


def promises_by_customer(promises: Sequence[PromiseRow]) -> Dict[int, List[PromiseRow]]:
    result: Dict[int, List[PromiseRow]] = {}
    for promise in promises:
        result.setdefault(promise.customer_id, []).append(promise)
    return result
