"""Pure decisions: the stage at each day boundary, stops and pauses, quiet hours, retry timing."""

import datetime as dt
from decimal import Decimal

import pytest

from bot.dunning import schedule
from bot.dunning.policy import load_policy
from bot.dunning.rows import Account, AttemptRow, OpenInvoice, PromiseRow
from tests.conftest import TODAY

POLICY = load_policy()
UTC = dt.timezone.utc


@pytest.mark.parametrize("days, stage", [
    (-4, None), (-3, "upcoming"), (-1, "upcoming"), (0, None), (2, None),
    (3, "friendly"), (29, "friendly"), (30, "firm"), (59, "firm"), (60, "final"), (89, "final"),
    (90, "collections"), (400, "collections"),
])
def test_the_stage_due_on_each_day(days, stage):
    due = schedule.stage_due(POLICY, days, sent=())
    assert (due.name if due else None) == stage


def test_a_stage_is_due_once_and_missed_stages_are_skipped_not_sent_late():
    assert schedule.stage_due(POLICY, 12, {"upcoming", "friendly"}) is None
    assert schedule.stage_due(POLICY, 45, {"upcoming"}).name == "firm"  # friendly is skipped
    assert schedule.stage_due(POLICY, 45, {"final"}) is None  # a later stage went out already


def invoice(paid="0.00", opted_out=False, undeliverable=False, customer_id=1, invoice_id=10):
    account = Account(customer_id, "AC-1", "Robin Test", "r@example.org", "America/New_York", opted_out, undeliverable)
    return OpenInvoice(invoice_id, "INV-1", "", Decimal("100.00"), Decimal("0.00"), Decimal(paid), "USD",
                       TODAY - dt.timedelta(days=40), TODAY - dt.timedelta(days=10), account)


def promise(days_ahead, invoice_id=10, customer_id=1):
    return PromiseRow(1, customer_id, invoice_id, TODAY + dt.timedelta(days=days_ahead), None,
                      dt.datetime(2026, 11, 1, tzinfo=UTC))


@pytest.mark.parametrize("case, reason", [
    (dict(invoice=invoice(paid="100.00")), "paid in full"),
    (dict(invoice=invoice(opted_out=True)), "opted out of reminders"),
    (dict(invoice=invoice(undeliverable=True)), "email address bounced"),
    (dict(held={1}), "a person holds the customer's conversation"),
    (dict(promises=[promise(0)]), "promise to pay by 2026-11-18"),
    (dict(promises=[promise(5, invoice_id=None)]), "promise to pay by 2026-11-23"),
    (dict(promises=[promise(5, invoice_id=11)]), None),  # a promise about another invoice
    (dict(promises=[promise(-1)]), None),  # the promised day has passed
    (dict(), None),
])
def test_what_stops_or_pauses_a_reminder(case, reason):
    assert schedule.hold_reason(case.get("invoice", invoice()), TODAY, case.get("promises", []),
                                case.get("held", set())) == reason


@pytest.mark.parametrize("utc_hour, zone, quiet", [
    (17, "America/New_York", False),  # 12:00 in New York
    (1, "America/New_York", True),  # 20:00 in New York
    (12, "America/New_York", True),  # 07:00 in New York
    (13, "America/New_York", False),  # 08:00 in New York: quiet hours are over
    (17, "Asia/Tokyo", True),  # 02:00 in Tokyo
    (17, "Not/AZone", False),  # unknown zone: the company's (New York) clock
])
def test_quiet_hours_follow_the_customers_clock(utc_hour, zone, quiet):
    now = dt.datetime(2026, 11, 18, utc_hour, tzinfo=UTC)
    assert schedule.in_quiet_hours(POLICY, now, zone, "America/New_York") is quiet


def attempt(hours_ago, outcome="declined", kind="soft", now=dt.datetime(2026, 11, 18, 12, tzinfo=UTC)):
    return AttemptRow(1, 10, 5, now - dt.timedelta(hours=hours_ago), outcome,
                      "insufficient_funds" if kind == "soft" else "stolen_card", kind if outcome == "declined" else None)


def test_soft_declines_are_retried_on_the_schedule_from_the_first_decline():
    now = dt.datetime(2026, 11, 18, 12, tzinfo=UTC)
    assert schedule.retry_number_due(POLICY, [attempt(23)], now) is None  # day 1 not reached
    assert schedule.retry_number_due(POLICY, [attempt(24)], now) == 1
    assert schedule.retry_number_due(POLICY, [attempt(48), attempt(24)], now) is None  # retry 2 at day 3
    assert schedule.retry_number_due(POLICY, [attempt(72), attempt(48)], now) == 2
    assert schedule.retry_number_due(POLICY, [attempt(24 * 6), attempt(2)], now) is None  # a day between tries
    five = [attempt(24 * 8)] + [attempt(24 * d) for d in (7, 5, 3, 1)]
    assert schedule.retry_number_due(POLICY, five, now) is None  # all four retries used


def test_hard_declines_are_never_retried():
    now = dt.datetime(2026, 11, 18, 12, tzinfo=UTC)
    hard = [attempt(24 * 9, kind="hard")]
    assert schedule.retry_number_due(POLICY, hard, now) is None
    assert schedule.hard_decline(hard) == hard[0]
    assert schedule.hard_decline([attempt(30, kind="hard"), attempt(2, outcome="succeeded")]) is None
