"""Failed payments (soft and hard declines) and the card on file."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import update

from actions.payments import ActionCardExpiring, ActionPaymentFailed, ActionUpdateCard
from bot.config import get_settings
from bot.db import session_scope
from bot.accounts import queries
from bot.accounts.models import Card
from bot.nlu.amounts import format_money
from bot.nlu.dates import date_in_words
from tests.actions.helpers import (  # noqa: F401 (fixtures)
    customer,
    run_action,
    verified_slots,
)
from tests.conftest import TODAY, use_settings

CARD_LINK = "https://pay.test.example/card"


async def ask(action_class, account_number):
    person = await customer(account_number)
    return await run_action(action_class(), slots=verified_slots(person))


async def latest_decline(account_number):
    person = await customer(account_number)
    async with session_scope() as session:
        attempt = await queries.latest_failed_attempt(session, person.id)
    assert attempt is not None
    return attempt


# --- failed payments ------------------------------------------------------------------------


async def test_soft_decline(any_db):
    attempt = await latest_decline("AC-100008")  # Emma Schmidt
    assert (attempt.decline_type, attempt.decline_code) == ("soft", "insufficient_funds")

    ran = await ask(ActionPaymentFailed, "AC-100008")
    assert ran.events == []
    assert ran.said == [{
        "response": "utter_payment_failed_soft",
        "amount": format_money(attempt.amount, "USD"),
        "number": attempt.invoice_number,
        "date": date_in_words(attempt.attempted_at.date(), TODAY),
        "reason": "there weren't enough funds available at the time",
        "link": f"https://pay.northwind.example/invoice/{attempt.invoice_number}",
        "card_link": get_settings().card_update_link,
    }]
    assert ran.said[0]["date"] == "Monday, November 16"


async def test_hard_decline(any_db):
    attempt = await latest_decline("AC-100009")  # Noah Williams
    assert (attempt.decline_type, attempt.decline_code) == ("hard", "card_reported_lost")

    ran = await ask(ActionPaymentFailed, "AC-100009")
    assert ran.events == []
    assert ran.said == [{
        "response": "utter_payment_failed_hard",
        "amount": format_money(attempt.amount, "USD"),
        "number": attempt.invoice_number,
        "date": date_in_words(attempt.attempted_at.date(), TODAY),
        "reason": "the card has been reported lost or stolen",
        "link": f"https://pay.northwind.example/invoice/{attempt.invoice_number}",
        "card_link": get_settings().card_update_link,
    }]


async def test_decline_uses_the_configured_links(sqlite_db, monkeypatch):
    use_settings(monkeypatch, database_url=sqlite_db, card_update_link=CARD_LINK,
                 payment_link_base="https://pay.test.example/i/")
    attempt = await latest_decline("AC-100009")
    ran = await ask(ActionPaymentFailed, "AC-100009")
    assert (ran.said[0]["card_link"], ran.said[0]["link"]) == (
        CARD_LINK, f"https://pay.test.example/i/{attempt.invoice_number}")


@pytest.mark.parametrize("account_number, name", [("AC-100001", "Maria"), ("AC-100005", "Li")])
async def test_no_failed_payment(sqlite_db, account_number, name):
    ran = await ask(ActionPaymentFailed, account_number)
    assert ran.events == []
    assert ran.said == [{"response": "utter_no_failed_payment", "name": name}]


# --- the card on file -----------------------------------------------------------------------


async def test_card_expiring_this_month(any_db):
    ran = await ask(ActionCardExpiring, "AC-100010")  # Olivia Brown
    assert ran.events == []
    assert ran.said == [{
        "response": "utter_card_expiring",
        "brand": "Visa",
        "last4": "1117",
        "expiry": TODAY.strftime("%B %Y"),  # the seed makes it expire this month
        "card_link": get_settings().card_update_link,
    }]


async def test_card_ok(any_db):
    maria = await customer("AC-100001")
    async with session_scope() as session:
        card = await queries.default_card(session, maria.id)
    assert card.expires_on() - TODAY > dt.timedelta(days=45)

    ran = await ask(ActionCardExpiring, "AC-100001")
    assert ran.said == [{
        "response": "utter_card_ok",
        "brand": "Visa",
        "last4": "4242",
        "expiry": dt.date(card.exp_year, card.exp_month, 1).strftime("%B %Y"),
        "card_link": get_settings().card_update_link,
    }]
    assert ran.said[0]["expiry"] == "July 2028"  # 20 months after November 2026


async def test_card_expired(sqlite_db):
    maria = await customer("AC-100001")
    async with session_scope() as session:
        await session.execute(update(Card).where(Card.customer_id == maria.id).values(exp_month=10, exp_year=2026))

    ran = await ask(ActionCardExpiring, "AC-100001")
    assert ran.said == [{
        "response": "utter_card_expired",
        "brand": "Visa",
        "last4": "4242",
        "expiry": "October 2026",
        "card_link": get_settings().card_update_link,
    }]


async def test_no_card_on_file(any_db):
    ran = await ask(ActionCardExpiring, "AC-100016")  # Omar Haddad
    assert ran.events == []
    assert ran.said == [{"response": "utter_no_card", "name": "Omar", "card_link": get_settings().card_update_link}]


async def test_no_card_uses_the_configured_card_link(sqlite_db, monkeypatch):
    use_settings(monkeypatch, database_url=sqlite_db, card_update_link=CARD_LINK)
    ran = await ask(ActionCardExpiring, "AC-100016")
    assert ran.said == [{"response": "utter_no_card", "name": "Omar", "card_link": CARD_LINK}]


async def test_update_card_fills_the_configured_link_without_verification(sqlite_db, monkeypatch):
    # The response's {card_link} is no slot: said alone, the customer saw "{card_link}" literally.
    use_settings(monkeypatch, database_url=sqlite_db, card_update_link=CARD_LINK)
    ran = await run_action(ActionUpdateCard())
    assert ran.said == [{"response": "utter_update_card", "card_link": CARD_LINK}]
    assert ran.events == []
