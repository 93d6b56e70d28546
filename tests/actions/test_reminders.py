"""Why a reminder was sent, the promise form, and recording promises and extensions."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import delete, func, select, update

from actions.reminders import ActionRecordPromise, ActionWhyReminder, ValidatePromiseForm
from bot.config import get_settings
from bot.db import session_scope
from bot.accounts import queries
from bot.accounts.models import Invoice, PromiseToPay
from bot.nlu.amounts import format_money
from bot.nlu.dates import date_in_words
from bot.dunning import history
from bot.accounts.views import OUTSTANDING_STATUSES, PromiseView
from tests.actions.helpers import (  # noqa: F401 (fixtures)
    customer,
    make_tracker,
    responses,
    run_action,
    user_event,
    verified_slots,
)
from tests.conftest import TODAY

RESET = [SlotSet("promise_date", None), SlotSet("promise_amount", None), SlotSet("promise_kind", None)]


def usd(amount) -> str:
    return format_money(Decimal(amount), "USD")


def day(date: dt.date) -> str:
    return date_in_words(date, TODAY)


def link(number: str) -> str:
    return f"https://pay.northwind.example/invoice/{number}"


async def latest_reminder(account_number, invoice_number=None):
    person = await customer(account_number)
    async with session_scope() as session:
        reminder = await history.latest_reminder(session, person.id, invoice_number)
    assert reminder is not None
    return reminder


async def active_promise(account_number):
    person = await customer(account_number)
    async with session_scope() as session:
        return await queries.active_promise(session, person.id)


@pytest.fixture
async def promises_restored(any_db):
    """Puts the promises table back afterwards: on PostgreSQL, ``any_db`` is shared by the whole run."""
    async with session_scope() as session:
        before = dict((await session.execute(select(PromiseToPay.id, PromiseToPay.status))).all())
    yield any_db
    async with session_scope() as session:
        await session.execute(delete(PromiseToPay).where(PromiseToPay.id.not_in(list(before))))
        for promise_id, status in before.items():
            await session.execute(update(PromiseToPay).where(PromiseToPay.id == promise_id).values(status=status))


async def ask_why(account_number, **slots):
    person = await customer(account_number)
    return await run_action(ActionWhyReminder(), slots=verified_slots(person, **slots))


# --- why a reminder was sent ----------------------------------------------------------------


async def test_why_reminder_final_notice(any_db):
    reminder = await latest_reminder("AC-100005")  # Li Wei, 75 days overdue
    invoice = reminder.invoice
    assert reminder.stage == "final"

    ran = await ask_why("AC-100005")
    assert ran.events == []
    assert ran.said == [{
        "response": "utter_why_reminder",
        "stage": "final",
        "days": 75,
        "number": invoice.number,
        "amount": usd(invoice.amount + invoice.late_fee - invoice.paid),
        "due": day(invoice.due_on),
        "sent": day(reminder.sent_at.date()),
        "link": link(invoice.number),
    }]
    # The final notice went out 60 days after the due date (seed.STAGE_DAYS).
    assert reminder.sent_at.date() == invoice.due_on + dt.timedelta(days=60)


@pytest.mark.parametrize("account_number, stage, days", [
    ("AC-100003", "friendly", 12),
    ("AC-100004", "second", 45),  # the firm reminder is the customer's second one
    ("AC-100006", "final", 105),  # collections still reads as a final reminder
])
async def test_why_reminder_names_the_stage_in_plain_words(sqlite_db, account_number, stage, days):
    ran = await ask_why(account_number)
    assert [(r["response"], r["stage"], r["days"]) for r in ran.said] == [("utter_why_reminder", stage, days)]


async def test_why_reminder_for_an_invoice_not_yet_due(sqlite_db):
    reminder = await latest_reminder("AC-100002")  # James Carter, due in 3 days
    invoice = reminder.invoice
    assert reminder.stage == "upcoming"
    ran = await ask_why("AC-100002")
    assert ran.said == [{
        "response": "utter_why_reminder_upcoming",
        "number": invoice.number,
        "amount": usd(invoice.amount_due),
        "due": day(invoice.due_on),
        "sent": day(reminder.sent_at.date()),
        "link": link(invoice.number),
    }]


async def test_why_reminder_about_a_named_invoice(sqlite_db):
    latest = await latest_reminder("AC-100007")  # Daniel Okafor: the newer invoice had the latest reminder
    older = (await latest_reminder("AC-100007", "INV-20021")).invoice
    assert latest.invoice.number != older.number and latest.stage == "friendly"

    ran = await ask_why("AC-100007", invoice_number=older.number)
    assert [(r["response"], r["number"], r["stage"], r["days"]) for r in ran.said] == [
        ("utter_why_reminder", older.number, "final", (TODAY - older.due_on).days)]


async def test_why_reminder_with_an_invoice_number_that_had_no_reminder(any_db):
    # A number left over from an earlier question (a paid invoice) or another customer's
    # invoice must not turn a final notice into "your account is in good standing".
    reminder = await latest_reminder("AC-100005")
    paid = await invoices("AC-100005", ("paid",))
    marias = await invoices("AC-100001", ("paid",))
    for number in (paid[0].number, marias[0].number, "INV-99999"):
        ran = await ask_why("AC-100005", invoice_number=number)
        assert [(r["response"], r["number"], r["stage"]) for r in ran.said] == [
            ("utter_why_reminder", reminder.invoice.number, "final")]


async def test_why_reminder_after_the_invoice_was_paid(sqlite_db):
    reminder = await latest_reminder("AC-100005")
    async with session_scope() as session:
        await session.execute(update(Invoice).where(Invoice.number == reminder.invoice.number)
                              .values(status="paid", paid_on=TODAY))
    ran = await ask_why("AC-100005")
    assert ran.said == [{"response": "utter_why_reminder_paid", "number": reminder.invoice.number}]


@pytest.mark.parametrize("account_number, name", [("AC-100001", "Maria"), ("AC-100010", "Olivia")])
async def test_no_reminders(any_db, account_number, name):
    ran = await ask_why(account_number)
    assert ran.events == []
    assert ran.said == [{"response": "utter_no_reminders", "name": name,
                         "support_email": get_settings().support_email}]


async def test_why_reminder_mentions_an_active_promise(sqlite_db):
    promise = await active_promise("AC-100012")  # Chloe Dubois
    assert promise.promised_date == TODAY + dt.timedelta(days=6)
    reminder = await latest_reminder("AC-100012")

    ran = await ask_why("AC-100012")
    assert ran.events == []
    assert ran.said == [
        {
            "response": "utter_why_reminder",
            "stage": "friendly",
            "days": 25,
            "number": reminder.invoice.number,
            "amount": usd(reminder.invoice.amount_due),
            "due": day(reminder.invoice.due_on),
            "sent": day(reminder.sent_at.date()),
            "link": link(reminder.invoice.number),
        },
        {"response": "utter_active_promise", "date": "Tuesday, November 24"},
    ]


# --- the promise form -----------------------------------------------------------------------


async def validate_date(value):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(active_loop={"name": "promise_form"}, slots={"requested_slot": "promise_date"})
    result = await ValidatePromiseForm().validate_promise_date(value, dispatcher, tracker, {})
    return result, responses(dispatcher)


@pytest.mark.parametrize("value, expected", [
    ("2026-11-25", "2026-11-25"),  # as the entity normaliser gives it
    ("friday", "2026-11-20"),  # today is Wednesday, November 18
    ("by next Friday", "2026-11-27"),
    ("the 1st", "2026-12-01"),
    ("today", "2026-11-18"),
    ("December 15", "2026-12-15"),
])
async def test_promise_date_is_read(sqlite_db, value, expected):
    assert await validate_date(value) == ({"promise_date": expected}, [])


@pytest.mark.parametrize("value", ["2026-11-17", "November 1", "2025-12-01"])
async def test_past_promise_date_is_rejected(sqlite_db, value):
    assert await validate_date(value) == ({"promise_date": None}, [{"response": "utter_promise_date_past"}])


@pytest.mark.parametrize("value", ["whenever I can", "soon", "2026-13-45", "", None])
async def test_promise_date_that_is_not_a_date_is_asked_again(sqlite_db, value):
    assert await validate_date(value) == (
        {"promise_date": None}, [{"response": "utter_promise_date_not_understood"}])


# --- recording a promise --------------------------------------------------------------------


async def record(account_number, events=(), **slots):
    person = await customer(account_number)
    return await run_action(ActionRecordPromise(), slots=verified_slots(person, **slots), events=list(events))


async def test_promise_is_recorded(promises_restored):
    li = await customer("AC-100005")
    async with session_scope() as session:
        invoice = await queries.next_invoice_due(session, li.id)
    assert await active_promise("AC-100005") is None

    ran = await record("AC-100005", promise_date="2026-11-27", promise_kind="promise_to_pay")
    assert ran.events == RESET + [SlotSet("promise_outcome", "recorded")]
    assert ran.said == [{"response": "utter_promise_recorded", "name": "Li", "amount": usd(invoice.amount_due),
                         "date": "Friday, November 27"}]

    promise = await active_promise("AC-100005")
    assert promise == PromiseView(
        promised_date=dt.date(2026, 11, 27), amount=invoice.amount_due, currency="USD", kind="promise",
        status="active", invoice_number=invoice.number)


async def test_promise_of_part_of_the_amount(sqlite_db):
    ran = await record("AC-100005", promise_date="2026-11-20", promise_amount="100.00 USD")
    assert ran.said == [{"response": "utter_promise_recorded", "name": "Li", "amount": "$100.00",
                         "date": "Friday, November 20"}]
    promise = await active_promise("AC-100005")
    assert (promise.amount, promise.currency) == (Decimal("100.00"), "USD")


async def test_promise_in_another_currency_is_taken_as_the_amount_due(sqlite_db):
    (invoice,) = [i for i in await invoices("AC-100005") if i.status == "open"]
    ran = await record("AC-100005", promise_date="2026-11-20", promise_amount="100.00 EUR")
    assert ran.said[0]["amount"] == usd(invoice.amount_due)
    assert (await active_promise("AC-100005")).amount == invoice.amount_due


async def invoices(account_number, statuses=OUTSTANDING_STATUSES):
    person = await customer(account_number)
    async with session_scope() as session:
        return await queries.invoices_for(session, person.id, statuses)


async def test_extension_request_is_granted(promises_restored):
    ran = await record("AC-100005", promise_date="2026-12-01", promise_kind="request_extension")
    assert ran.events == RESET + [SlotSet("promise_outcome", "recorded")]
    assert [(r["response"], r["name"], r["date"]) for r in ran.said] == [
        ("utter_extension_granted", "Li", "Tuesday, December 1")]
    promise = await active_promise("AC-100005")
    assert (promise.kind, promise.promised_date) == ("extension", dt.date(2026, 12, 1))


async def test_extension_is_recognised_from_the_customers_request(sqlite_db):
    events = [user_event("request_extension", "can I have more time?"), user_event(None, "december 1")]
    ran = await record("AC-100005", events, promise_date="2026-12-01")
    assert [r["response"] for r in ran.said] == ["utter_extension_granted"]
    assert (await active_promise("AC-100005")).kind == "extension"


async def test_a_new_promise_replaces_the_active_one(sqlite_db):
    chloe = await customer("AC-100012")
    ran = await record("AC-100012", promise_date="2026-11-30", promise_kind="promise_to_pay")
    assert ran.events == RESET + [SlotSet("promise_outcome", "recorded")]
    assert (await active_promise("AC-100012")).promised_date == dt.date(2026, 11, 30)
    async with session_scope() as session:
        statuses = (await session.execute(
            select(PromiseToPay.status, func.count()).where(PromiseToPay.customer_id == chloe.id)
            .group_by(PromiseToPay.status))).all()
    assert dict(statuses) == {"active": 1, "cancelled": 1}


async def test_the_self_service_limit_itself_is_accepted(sqlite_db):
    # Li's invoice is overdue, so the limit counts from today.
    limit = TODAY + dt.timedelta(days=get_settings().max_extension_days)
    ran = await record("AC-100005", promise_date=limit.isoformat(), promise_kind="request_extension")
    assert ran.events[-1] == SlotSet("promise_outcome", "recorded")
    assert (await active_promise("AC-100005")).promised_date == limit


@pytest.mark.parametrize("account_number, kind", [("AC-100005", "request_extension"), ("AC-100002", "promise_to_pay")])
async def test_date_beyond_the_limit_needs_a_person(any_db, account_number, kind):
    (invoice,) = [i for i in await invoices(account_number) if i.status == "open"]
    max_days = get_settings().max_extension_days
    beyond = max(invoice.due_on, TODAY) + dt.timedelta(days=max_days + 1)

    ran = await record(account_number, promise_date=beyond.isoformat(), promise_kind=kind)
    assert ran.events == RESET + [SlotSet("promise_outcome", "needs_person")]
    assert ran.said == [{"response": "utter_extension_needs_person", "date": day(beyond), "max_days": max_days}]
    assert await active_promise(account_number) is None


async def test_a_not_yet_due_invoice_counts_the_limit_from_its_due_date(sqlite_db):
    (invoice,) = [i for i in await invoices("AC-100002") if i.status == "open"]  # due in 3 days
    limit = invoice.due_on + dt.timedelta(days=get_settings().max_extension_days)
    ran = await record("AC-100002", promise_date=limit.isoformat(), promise_kind="request_extension")
    assert ran.said[0]["response"] == "utter_extension_granted"


async def test_a_promise_for_a_named_invoice(sqlite_db):
    newer = [i for i in await invoices("AC-100007") if i.status == "open"][-1]
    ran = await record("AC-100007", promise_date="2026-11-25", invoice_number=newer.number)
    assert ran.said[0]["amount"] == usd(newer.amount_due)
    assert (await active_promise("AC-100007")).invoice_number == newer.number


async def test_nothing_to_promise_when_nothing_is_due(sqlite_db):
    ran = await record("AC-100001", promise_date="2026-11-25", promise_kind="promise_to_pay")
    assert ran.events == RESET + [SlotSet("promise_outcome", "recorded")]
    assert ran.said == [{"response": "utter_nothing_to_promise", "name": "Maria"}]
    assert await active_promise("AC-100001") is None
