"""Balance, invoices, an invoice's status, the next payment due and how to pay."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import update

from actions.account import (
    ActionCheckBalance,
    ActionHowToPay,
    ActionInvoiceStatus,
    ActionListInvoices,
    ActionNextPaymentDue,
)
from actions.payments import ActionCardExpiring, ActionPaymentFailed
from actions.reminders import ActionRecordPromise, ActionWhyReminder
from bot.db import session_scope
from bot.accounts import queries
from bot.accounts.models import Invoice
from bot.nlu.amounts import format_money
from bot.nlu.dates import date_in_words
from tests.actions.helpers import (  # noqa: F401 (fixtures)
    customer,
    database_down,
    run_action,
    user_event,
    verified_slots,
)
from tests.conftest import TODAY, use_settings

ACCOUNT_ACTIONS = [
    ActionCheckBalance,
    ActionListInvoices,
    ActionInvoiceStatus,
    ActionNextPaymentDue,
    ActionHowToPay,
    ActionPaymentFailed,
    ActionCardExpiring,
    ActionWhyReminder,
    ActionRecordPromise,
]
LINK_BASE = "https://pay.test.example/i/"


@pytest.fixture
def link_base(sqlite_db, monkeypatch) -> str:
    """A payment link base different from the default, so the answers must use the setting."""
    use_settings(monkeypatch, database_url=sqlite_db, payment_link_base=LINK_BASE)
    return LINK_BASE


async def open_invoices(account_number, statuses=("open",)):
    person = await customer(account_number)
    async with session_scope() as session:
        return [i for i in await queries.invoices_for(session, person.id, statuses) if i.amount_due > 0]


async def ask(action_class, account_number, **slots):
    person = await customer(account_number)
    return await run_action(action_class(), slots=verified_slots(person, **slots))


def usd(amount) -> str:
    return format_money(Decimal(amount), "USD")


# --- the verification guard -----------------------------------------------------------------


@pytest.mark.parametrize("action_class", ACCOUNT_ACTIONS)
@pytest.mark.parametrize(
    "slots",
    [
        {},
        {"customer_id": "5", "customer_name": "Li", "identifier": "AC-100005"},  # identified, not verified
        {"verified": "true", "customer_id": "5"},  # only the boolean True counts
        {"verified": True, "customer_id": None},
        {"verified": True, "customer_id": "not a number"},
    ],
)
async def test_every_account_action_refuses_without_verification(sqlite_db, action_class, slots):
    ran = await run_action(action_class(), slots={"invoice_number": "INV-20015", "promise_date": "2026-11-20",
                                                  **slots},
                           events=[user_event("check_balance", "what do I owe")])
    assert ran.events == []
    assert ran.said == [{"response": "utter_need_verification"}]  # no values: no account data
    assert ran.json == []


@pytest.mark.parametrize("action_class", ACCOUNT_ACTIONS)
async def test_every_account_action_answers_system_trouble_when_the_database_is_down(database_down, action_class):
    ran = await run_action(action_class(), slots={"verified": True, "customer_id": "5", "customer_name": "Li",
                                                  "invoice_number": "INV-20015", "promise_date": "2026-11-20"})
    assert ran.events == []
    assert ran.said == [{"response": "utter_system_trouble"}]


async def test_a_verified_customer_who_no_longer_exists_must_verify_again(sqlite_db):
    ran = await run_action(ActionCheckBalance(), slots={"verified": True, "customer_id": "99999"})
    assert ran.events == [{"event": "slot", "name": "verified", "value": False}]
    assert ran.said == [{"response": "utter_need_verification"}]


# --- balance --------------------------------------------------------------------------------


async def test_balance_of_an_overdue_customer(any_db):
    invoices = await open_invoices("AC-100005")
    assert len(invoices) == 1 and invoices[0].late_fee == Decimal("25.00")
    due = invoices[0].amount + invoices[0].late_fee - invoices[0].paid

    ran = await ask(ActionCheckBalance, "AC-100005")
    assert ran.events == []
    assert ran.said == [{"response": "utter_balance", "name": "Li", "amount": usd(due), "count": 1}]


async def test_balance_adds_up_several_open_invoices(any_db):
    invoices = await open_invoices("AC-100007")  # Daniel Okafor: 150 and 20 days overdue
    assert len(invoices) == 2
    total = sum((i.amount_due for i in invoices), Decimal("0.00"))

    ran = await ask(ActionCheckBalance, "AC-100007")
    assert ran.said == [{"response": "utter_balance", "name": "Daniel", "amount": usd(total), "count": 2}]


async def test_balance_in_euros(sqlite_db):
    invoices = await open_invoices("AC-100013")  # Hannah Meyer, billed in euros
    total = sum((i.amount_due for i in invoices), Decimal("0.00"))

    ran = await ask(ActionCheckBalance, "AC-100013")
    assert ran.said == [{"response": "utter_balance", "name": "Hannah", "amount": format_money(total, "EUR"),
                         "count": 2}]
    assert ran.said[0]["amount"].startswith("€")


async def test_balance_keeps_the_disputed_amount_apart(any_db):
    (disputed,) = await open_invoices("AC-100011", ("disputed",))
    assert await open_invoices("AC-100011") == []

    ran = await ask(ActionCheckBalance, "AC-100011")
    assert ran.events == []
    assert ran.said == [{"response": "utter_balance_with_dispute", "name": "Lucas", "amount": usd(0), "count": 0,
                         "disputed": usd(disputed.amount_due)}]


async def test_balance_with_only_a_disputed_amount_keeps_the_currency(sqlite_db):
    hannah = await customer("AC-100013")  # billed in euros
    async with session_scope() as session:
        await session.execute(update(Invoice).where(Invoice.customer_id == hannah.id, Invoice.status == "open")
                              .values(status="disputed"))
    disputed = await open_invoices("AC-100013", ("disputed",))
    total = sum((i.amount_due for i in disputed), Decimal("0.00"))

    ran = await ask(ActionCheckBalance, "AC-100013")
    assert ran.said == [{"response": "utter_balance_with_dispute", "name": "Hannah", "amount": "€0.00", "count": 0,
                         "disputed": format_money(total, "EUR")}]


async def test_balance_of_a_paid_up_customer_is_zero(any_db):
    ran = await ask(ActionCheckBalance, "AC-100001")
    assert ran.events == []
    assert ran.said == [{"response": "utter_balance_zero", "name": "Maria"}]


async def test_an_upset_customer_hears_empathy_before_the_facts(sqlite_db):
    li = await customer("AC-100005")
    upset = user_event("check_balance", "why is my bill so high?!", negative=0.8)
    ran = await run_action(ActionCheckBalance(), slots=verified_slots(li), events=[upset])
    assert [r["response"] for r in ran.said] == ["utter_empathy", "utter_balance"]


# --- list of invoices -----------------------------------------------------------------------


async def test_list_invoices_overdue_and_upcoming(any_db):
    overdue, upcoming = await open_invoices("AC-100013")
    assert overdue.due_on < TODAY <= upcoming.due_on
    expected = "\n".join([
        f"- {overdue.number}: {format_money(overdue.amount_due, 'EUR')} ({overdue.description}), "
        f"{(TODAY - overdue.due_on).days} days overdue",
        f"- {upcoming.number}: {format_money(upcoming.amount_due, 'EUR')} ({upcoming.description}), "
        f"due {date_in_words(upcoming.due_on, TODAY)}",
    ])

    ran = await ask(ActionListInvoices, "AC-100013")
    assert ran.events == []
    assert ran.said == [{"response": "utter_invoice_list", "name": "Hannah", "lines": expected}]


async def test_list_invoices_shows_a_disputed_invoice_on_hold(sqlite_db):
    (disputed,) = await open_invoices("AC-100011", ("disputed",))
    ran = await ask(ActionListInvoices, "AC-100011")
    assert ran.said == [{
        "response": "utter_invoice_list",
        "name": "Lucas",
        "lines": f"- {disputed.number}: {usd(disputed.amount_due)} ({disputed.description}), disputed, on hold",
    }]


async def test_list_invoices_when_everything_is_paid(sqlite_db):
    ran = await ask(ActionListInvoices, "AC-100001")
    assert ran.said == [{"response": "utter_no_open_invoices", "name": "Maria"}]


# --- one invoice's status -------------------------------------------------------------------


async def test_status_of_an_overdue_invoice_with_late_fee(link_base):
    (invoice,) = await open_invoices("AC-100005")
    days = (TODAY - invoice.due_on).days
    assert days == 75

    # Typed loosely; the answer names it canonically.
    ran = await ask(ActionInvoiceStatus, "AC-100005", invoice_number=invoice.number.lower().replace("-", " "))
    assert ran.events == []
    assert ran.said == [{
        "response": "utter_invoice_status",
        "number": invoice.number,
        "description": invoice.description,
        "amount": usd(invoice.amount + invoice.late_fee),
        "due": date_in_words(invoice.due_on, TODAY),
        "status_text": f"It's open and 75 days overdue, with {usd(invoice.amount_due)} left to pay "
                       f"(including a $25.00 late fee). You can pay it here: {link_base}{invoice.number}",
    }]


async def test_status_of_an_invoice_not_yet_due(link_base):
    (invoice,) = await open_invoices("AC-100002")  # James Carter: due in 3 days
    ran = await ask(ActionInvoiceStatus, "AC-100002", invoice_number=invoice.number)
    assert ran.said == [{
        "response": "utter_invoice_status",
        "number": invoice.number,
        "description": invoice.description,
        "amount": usd(invoice.amount),
        "due": date_in_words(invoice.due_on, TODAY),
        "status_text": f"It's open and not due yet. You can pay it here: {link_base}{invoice.number}",
    }]


@pytest.mark.parametrize("account_number, status, text", [
    ("AC-100001", "paid", "It's paid. Thank you!"),
    ("AC-100011", "disputed", "It's under dispute, so it's on hold while our team reviews it. "
                              "No reminders will be sent meanwhile."),
])
async def test_status_of_a_paid_or_disputed_invoice(sqlite_db, account_number, status, text):
    invoice = (await open_invoices(account_number, (status,)) if status != "paid"
               else await paid_invoices(account_number))[-1]
    ran = await ask(ActionInvoiceStatus, account_number, invoice_number=invoice.number)
    assert ran.said == [{
        "response": "utter_invoice_status",
        "number": invoice.number,
        "description": invoice.description,
        "amount": usd(invoice.amount),
        "due": date_in_words(invoice.due_on, TODAY),
        "status_text": text,
    }]


async def paid_invoices(account_number):
    person = await customer(account_number)
    async with session_scope() as session:
        return await queries.invoices_for(session, person.id, ("paid",))


async def test_status_without_an_invoice_number_asks_for_it(sqlite_db):
    ran = await ask(ActionInvoiceStatus, "AC-100005")
    assert ran.events == []
    assert ran.said == [{"response": "utter_ask_invoice_number"}]


async def test_status_of_another_customers_invoice_is_not_found(any_db):
    marias = await paid_invoices("AC-100001")
    (james_open,) = await open_invoices("AC-100002")
    for number in (marias[0].number, james_open.number):
        ran = await ask(ActionInvoiceStatus, "AC-100005", invoice_number=number)
        # Exactly what a missing invoice gets: nothing about the other account leaks.
        assert ran.said == [{"response": "utter_invoice_not_found", "number": number}]
        assert ran.events == []


async def test_status_of_a_missing_invoice(sqlite_db):
    ran = await ask(ActionInvoiceStatus, "AC-100005", invoice_number="INV-99999")
    assert ran.said == [{"response": "utter_invoice_not_found", "number": "INV-99999"}]


# --- next payment due -----------------------------------------------------------------------


async def test_next_payment_overdue(any_db):
    (invoice,) = await open_invoices("AC-100005")
    ran = await ask(ActionNextPaymentDue, "AC-100005")
    assert ran.events == []
    assert ran.said == [{
        "response": "utter_next_payment_overdue",
        "number": invoice.number,
        "amount": usd(invoice.amount_due),
        "due": date_in_words(invoice.due_on, TODAY),
        "days": 75,
        "link": f"https://pay.northwind.example/invoice/{invoice.number}",
    }]


async def test_next_payment_prefers_the_oldest_overdue_invoice(link_base):
    oldest, newer = await open_invoices("AC-100007")
    assert oldest.due_on < newer.due_on
    ran = await ask(ActionNextPaymentDue, "AC-100007")
    assert ran.said == [{
        "response": "utter_next_payment_overdue",
        "number": oldest.number,
        "amount": usd(oldest.amount_due),
        "due": date_in_words(oldest.due_on, TODAY),
        "days": 150,
        "link": f"{link_base}{oldest.number}",
    }]


async def test_next_payment_upcoming(any_db):
    (invoice,) = await open_invoices("AC-100002")
    assert (invoice.due_on - TODAY).days == 3
    ran = await ask(ActionNextPaymentDue, "AC-100002")
    assert ran.said == [{
        "response": "utter_next_payment",
        "number": invoice.number,
        "amount": usd(invoice.amount_due),
        "due": "Saturday, November 21",
    }]


@pytest.mark.parametrize("account_number, name", [("AC-100001", "Maria"), ("AC-100011", "Lucas")])
async def test_nothing_due(sqlite_db, account_number, name):
    ran = await ask(ActionNextPaymentDue, account_number)
    assert ran.said == [{"response": "utter_nothing_due", "name": name}]


# --- how to pay -----------------------------------------------------------------------------


async def test_how_to_pay_links_each_open_invoice(link_base):
    invoices = await open_invoices("AC-100013")
    assert len(invoices) == 2
    ran = await ask(ActionHowToPay, "AC-100013")
    assert ran.events == []
    assert ran.said == [{
        "response": "utter_payment_links",
        "lines": "\n".join(f"- {i.number} ({format_money(i.amount_due, 'EUR')}): {link_base}{i.number}"
                           for i in invoices),
    }]


async def test_how_to_pay_uses_the_default_link_base(sqlite_db):
    (invoice,) = await open_invoices("AC-100005")
    ran = await ask(ActionHowToPay, "AC-100005")
    assert ran.said == [{
        "response": "utter_payment_links",
        "lines": f"- {invoice.number} ({usd(invoice.amount_due)}): "
                 f"https://pay.northwind.example/invoice/{invoice.number}",
    }]


@pytest.mark.parametrize("account_number, name", [("AC-100001", "Maria"), ("AC-100011", "Lucas")])
async def test_how_to_pay_with_nothing_to_pay(sqlite_db, account_number, name):
    # A disputed invoice is on hold: no payment link for it.
    ran = await ask(ActionHowToPay, account_number)
    assert ran.said == [{"response": "utter_nothing_to_pay", "name": name}]
