"""Each report definition on small fixed data whose answers were worked out by hand."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from bot.analytics import metrics
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

T0 = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.timezone.utc)


def at(minutes: float = 0, days: float = 0) -> dt.datetime:
    return T0 + dt.timedelta(days=days, minutes=minutes)


def test_percentile_is_nearest_rank():
    values = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]
    assert metrics.percentile(values, 50) == 50  # rank ceil(5.0) = 5
    assert metrics.percentile(values, 90) == 90  # rank 9
    assert metrics.percentile([7, 3, 5], 50) == 5  # sorted 3 5 7, rank ceil(1.5) = 2
    assert metrics.percentile([7, 3, 5], 90) == 7  # rank ceil(2.7) = 3
    assert metrics.percentile([], 50) is None


def group(days_to_return, handed_off=False, count=1, channel="web"):
    return ConversationFact(T0, channel, handed_off, days_to_return, count)


def test_containment_and_first_contact_resolution():
    reopen_days = 7
    conversations = [
        group(8, count=3),                    # bot only, nobody back within 7 days (8 = later or never): contained
        group(7, count=1),                    # bot only, back 7 days (rounded up) after its end: reopened
        group(1, count=2),                    # bot only, back the next day: reopened
        group(8, handed_off=True, count=2),   # a person helped, nobody back: not contained, first-contact yes
        group(0, handed_off=True, count=2),   # a person helped, back at once: neither
    ]
    # 10 conversations: contained 3; resolved first time 3 + 2 = 5.
    assert metrics.containment(conversations, reopen_days) == {"conversations": 10, "contained": 3, "rate": 0.3}
    assert metrics.first_contact_resolution(conversations, reopen_days) == {
        "conversations": 10, "resolved_first_time": 5, "rate": 0.5}
    # With a 1-day window the one back after 7 days is no longer reopened.
    assert metrics.containment(conversations, 1)["contained"] == 4


def test_reopened_is_within_the_window_included():
    assert metrics.is_reopened(group(7), 7) and metrics.is_reopened(group(0), 7)
    assert not metrics.is_reopened(group(8), 7)


def test_empty_period_gives_none_not_zero():
    assert metrics.containment([], 7) == {"conversations": 0, "contained": 0, "rate": None}
    assert metrics.queue_wait_seconds([]) == {"count": 0, "p50": None, "p90": None, "mean": None}
    assert metrics.csat([])["score"] is None
    assert metrics.csat([])["distribution"] == {"1": 0, "2": 0, "3": 0, "4": 0, "5": 0}
    assert metrics.abandoned([], 600, T0)["rate"] is None
    assert metrics.recovered_by_stage([], 14) == {}
    assert metrics.resolution_seconds([])["p50"] is None
    assert metrics.promises([])["kept_share"] is None
    assert metrics.card_retries([]) == {"retries": 0, "recovered": 0, "amount": Decimal("0.00"),
                                                        "rate": None}


def handoff(reason, requested, taken=None, ended=None, reply=None, channel="web", cid=1):
    return HandoffFact(cid, channel, reason, at(requested), at(taken) if taken is not None else None,
                       at(ended) if ended is not None else None, at(reply) if reply is not None else None)


HANDOFFS = [
    handoff("anger", 0, taken=2, ended=20, reply=3),             # waited 120 s, first reply 180 s
    handoff("anger", 0, taken=10, ended=30, reply=11, channel="email"),  # 600 s, 660 s
    handoff("dispute", 0, taken=1, ended=5, reply=None),          # 60 s, never wrote
    handoff("asked_for_person", 0, ended=15),                     # untaken, ended after 15 min: abandoned
    handoff("asked_for_person", 0, ended=5),                      # untaken, ended after 5 min: not abandoned
    handoff("hardship", 0),                                       # untaken, still waiting
]


def test_handoffs_by_reason_and_channel():
    assert metrics.count_by(HANDOFFS, "reason") == {"anger": 2, "asked_for_person": 2, "dispute": 1, "hardship": 1}
    assert metrics.count_by(HANDOFFS, "channel") == {"web": 5, "email": 1}


def test_queue_wait_and_first_response():
    # Taken handoffs wait 120, 600, 60 s: sorted 60 120 600, p50 = rank 2 = 120, p90 = rank 3 = 600.
    assert metrics.queue_wait_seconds(HANDOFFS) == {"count": 3, "p50": 120.0, "p90": 600.0, "mean": 260.0}
    # First replies 180 and 660 s.
    assert metrics.first_response_seconds(HANDOFFS) == {"count": 2, "p50": 180.0, "p90": 660.0, "mean": 420.0}


def test_abandoned_uses_the_timeout_and_the_report_time():
    # Still waiting after 9 min at as_of: not yet abandoned; after 11 min it is.
    assert metrics.abandoned(HANDOFFS, 600, at(9)) == {"handoffs": 6, "count": 1, "rate": 0.1667,
                                                       "timeout_seconds": 600}
    assert metrics.abandoned(HANDOFFS, 600, at(11))["count"] == 2


def test_resolution_time():
    resolved = [ResolvedFact(T0, 1800.0), ResolvedFact(T0, 88200.0)]  # 30 minutes; 1 day and 30 minutes
    assert metrics.resolution_seconds(resolved) == {"count": 2, "p50": 1800.0, "p90": 88200.0, "mean": 45000.0}


def test_csat_share_of_four_and_five():
    # Ratings 5 4 4 3 1 5 2, counted per hour as the facts bring them.
    ratings = [RatingFact(T0, 5, 1), RatingFact(T0, 4, 2), RatingFact(T0, 3, 1), RatingFact(T0, 1, 1),
               RatingFact(at(60), 5, 1), RatingFact(at(60), 2, 1)]
    assert metrics.csat(ratings) == {"ratings": 7, "satisfied": 4, "score": 0.5714,
                                     "distribution": {"1": 1, "2": 1, "3": 1, "4": 2, "5": 2}}


def test_money_recovered_goes_to_the_last_reminder_within_the_window():
    payments = [
        PaymentFact(at(days=12), Decimal("100.00"), "firm", at(days=10)),     # 2 days after firm: firm
        PaymentFact(at(days=14), Decimal("40.50"), "friendly", at(days=0)),   # exactly 14 days: still counts
        PaymentFact(at(days=15), Decimal("75.00"), "final", at(days=0)),      # 15 days: too late, no stage
        PaymentFact(at(days=19), Decimal("10.00"), None, None),               # no reminder before it
        PaymentFact(at(days=1), Decimal("9.50"), "friendly", at(days=0)),
    ]
    assert metrics.recovered_by_stage(payments, 14) == {
        "firm": {"payments": 1, "amount": Decimal("100.00")},
        "friendly": {"payments": 2, "amount": Decimal("50.00")},
    }


def test_reminders_by_stage_adds_up_the_hours():
    reminders = [ReminderFact(T0, "friendly", 2), ReminderFact(at(60), "firm", 2), ReminderFact(T0, "final", 1)]
    assert metrics.reminders_by_stage(reminders) == {"firm": 2, "friendly": 2, "final": 1}


def test_promises_kept_and_broken():
    facts = [PromiseFact(T0.date(), s) for s in ("kept", "kept", "kept", "broken", "active")]
    assert metrics.promises(facts) == {"kept": 3, "broken": 1, "active": 1, "cancelled": 0, "kept_share": 0.75}


def test_card_retries_recovered_after_a_soft_decline():
    attempts = [
        AttemptFact(at(days=1), Decimal("80.00"), "declined", True),    # a retry that failed
        AttemptFact(at(days=3), Decimal("80.00"), "succeeded", True),   # a retry that recovered 80.00
        AttemptFact(at(days=1), Decimal("50.00"), "declined", False),   # the first try (or after a hard decline)
        AttemptFact(at(days=2), Decimal("50.00"), "succeeded", False),  # paid, but not a retry
    ]
    assert metrics.card_retries(attempts) == {"retries": 2, "recovered": 1, "amount": Decimal("80.00"), "rate": 0.5}
