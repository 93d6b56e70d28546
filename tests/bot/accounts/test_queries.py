"""Data functions, on SQLite and on a real PostgreSQL connection (any_db)."""

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from bot.accounts import queries
from bot.accounts.models import PromiseToPay
from bot.dunning import history
from bot.accounts.verification import check_verification_secret
from bot.db import session_scope
from tests.conftest import TODAY


async def customer(account_number):
    async with session_scope() as session:
        return await queries.find_customer(session, account_number)


@pytest.mark.parametrize("identifier", ["AC-100005", "ac 100005", "AC100005", "LI.WEI@example.com"])
async def test_find_customer_by_account_number_or_email(any_db, identifier):
    found = await customer(identifier)
    assert (found.account_number, found.name) == ("AC-100005", "Li Wei")


@pytest.mark.parametrize("identifier", ["AC-999999", "nobody@example.com", "hello", "", "AC-12"])
async def test_unknown_or_malformed_identifier_is_none(any_db, identifier):
    assert await customer(identifier) is None


async def test_secrets_are_checked_against_hashes(any_db):
    li = await customer("AC-100005")
    async with session_scope() as session:
        assert await check_verification_secret(session, li.id, "98101")  # ZIP
        assert await check_verification_secret(session, li.id, "card ending 3220")  # last four
        assert not await check_verification_secret(session, li.id, "98102")
        assert not await check_verification_secret(session, li.id, "12")
        # A 5-digit reply is a ZIP guess only, never also a last-four guess (card ends 3220).
        assert not await check_verification_secret(session, li.id, "13220")


async def test_balance_keeps_disputed_amounts_apart(any_db):
    lucas = await customer("AC-100011")
    async with session_scope() as session:
        balance = await queries.balance_for(session, lucas.id)
        invoices = await queries.invoices_for(session, lucas.id)
    assert balance.due == {} and balance.open_invoices == 0
    assert balance.disputed == {"USD": invoices[0].amount}


async def test_final_notice_adds_the_late_fee_to_what_is_due(any_db):
    li = await customer("AC-100005")
    async with session_scope() as session:
        (invoice,) = await queries.invoices_for(session, li.id)
        balance = await queries.balance_for(session, li.id)
        reminder = await history.latest_reminder(session, li.id)
    assert invoice.late_fee == Decimal("25.00")
    assert invoice.amount_due == invoice.amount + Decimal("25.00")
    assert balance.due == {"USD": invoice.amount_due}
    assert invoice.days_overdue(TODAY) == 75
    assert (reminder.stage, reminder.invoice.number) == ("final", invoice.number)


async def test_money_is_exact(any_db):
    maria = await customer("AC-100001")
    async with session_scope() as session:
        invoices = await queries.invoices_for(session, maria.id, ("paid",))
    assert invoices and all(i.amount == i.amount.quantize(Decimal("0.01")) for i in invoices)
    assert all(isinstance(i.amount, Decimal) and i.amount_due == 0 for i in invoices)


async def test_invoice_of_another_customer_is_not_found(any_db):
    li, maria = await customer("AC-100005"), await customer("AC-100001")
    async with session_scope() as session:
        (li_invoice,) = await queries.invoices_for(session, li.id)
        assert await queries.invoice_by_number(session, maria.id, li_invoice.number) is None
        own = await queries.invoice_by_number(session, li.id, li_invoice.number.lower().replace("-", " "))
    assert own.number == li_invoice.number


async def test_next_invoice_due_prefers_the_overdue_one(any_db):
    hannah = await customer("AC-100013")  # one overdue and one upcoming, in euros
    async with session_scope() as session:
        nxt = await queries.next_invoice_due(session, hannah.id)
        all_open = await queries.invoices_for(session, hannah.id)
    assert nxt.due_on < TODAY and nxt.currency == "EUR" and len(all_open) == 2


async def test_declines_and_cards(any_db):
    emma, noah, omar = [await customer(a) for a in ("AC-100008", "AC-100009", "AC-100016")]
    async with session_scope() as session:
        soft = await queries.latest_failed_attempt(session, emma.id)
        hard = await queries.latest_failed_attempt(session, noah.id)
        assert await queries.default_card(session, omar.id) is None
        card = await queries.default_card(session, emma.id)
    assert (soft.decline_code, soft.decline_type) == ("insufficient_funds", "soft")
    assert (hard.decline_code, hard.decline_type) == ("card_reported_lost", "hard")
    assert card.last4 == "0341" and card.expires_on() > TODAY


async def test_record_promise_replaces_the_earlier_one(any_db):
    chloe = await customer("AC-100012")
    now = dt.datetime(2026, 11, 18, 12, tzinfo=dt.timezone.utc)
    async with session_scope() as session:
        before = await queries.active_promise(session, chloe.id)
        await queries.record_promise(session, chloe.id, TODAY + dt.timedelta(days=9), now,
                                     amount=Decimal("50.00"), currency="USD", kind="extension")
    async with session_scope() as session:
        after = await queries.active_promise(session, chloe.id)
        statuses = (await session.execute(
            select(PromiseToPay.status).where(PromiseToPay.customer_id == chloe.id))).scalars().all()
    assert before.promised_date == TODAY + dt.timedelta(days=6)
    assert (after.promised_date, after.kind, after.amount) == (TODAY + dt.timedelta(days=9), "extension", Decimal("50.00"))
    assert statuses.count("active") == 1


async def test_a_failed_transaction_leaves_nothing_behind(any_db):
    noah = await customer("AC-100009")
    promised = TODAY + dt.timedelta(days=123)
    with pytest.raises(RuntimeError):
        async with session_scope() as session:
            await queries.record_promise(session, noah.id, promised, dt.datetime.now(dt.timezone.utc))
            raise RuntimeError("caller failed after writing")
    async with session_scope() as session:
        rows = (await session.execute(
            select(PromiseToPay).where(PromiseToPay.promised_date == promised))).scalars().all()
    assert rows == []
