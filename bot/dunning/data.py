"""What the dunning engine reads: data functions over the account and hub tables.

Each takes a session; the caller owns the transaction. A run reads everything it
needs in a handful of set-based queries (never one query per invoice), so it
stays fast at 100,000 invoices.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Collection, Dict, Iterable, List, Optional, Sequence, Set, Tuple

from sqlalchemy import and_, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from bot.accounts.models import Card, Customer, Invoice, Payment, PaymentAttempt, PromiseToPay
from bot.conversations.models import Conversation, Handoff
from bot.dunning.models import Reminder
from bot.dunning.rows import Account, AttemptRow, CardRow, OpenInvoice, PromiseRow

# The agents' queue item the engine itself opens for a broken promise; it does not pause
# reminders until a person takes it (bot/dunning/alerts.py).
BROKEN_PROMISE = "broken_promise"
Scope = Optional[Collection[int]]  # customer ids a run is limited to; None for everyone


ACCOUNT_COLUMNS = (
    Customer.id,
    Customer.account_number,
    Customer.name,
    Customer.email,
    Customer.timezone,
    Customer.reminders_opt_out,
    Customer.email_undeliverable,
)


def _account(c: Customer) -> Account:
    return Account(
        c.id,
        c.account_number,
        c.name,
        c.email or "",
        c.timezone,
        bool(c.reminders_opt_out),
        bool(c.email_undeliverable),
    )


def _card(c: Card) -> CardRow:
    return CardRow(c.id, c.customer_id, c.brand, c.last4, c.exp_month, c.exp_year)


def _only(column, customers: Scope):
    """A run can be limited to some customers (`--account`, and tests sharing a database)."""
    return column.in_(list(customers)) if customers is not None else true()


async def open_invoices(
    session: AsyncSession, due_by: dt.date, ids: Optional[Sequence[int]] = None, customers: Scope = None
) -> List[OpenInvoice]:
    """Open invoices due on or before ``due_by`` (or exactly ``ids``), with what was paid on each."""
    condition = and_(Invoice.status == "open", Invoice.due_on <= due_by, _only(Invoice.customer_id, customers))
    if ids is not None:
        condition = and_(Invoice.status == "open", Invoice.id.in_(list(ids)))
    paid_rows = await session.execute(
        select(Payment.invoice_id, func.sum(Payment.amount))
        .join(Invoice, Invoice.id == Payment.invoice_id)
        .where(condition)
        .group_by(Payment.invoice_id)
    )
    # sum() keeps the Money type, so totals come back as exact Decimals.
    paid = {invoice_id: Decimal(total) for invoice_id, total in paid_rows.all()}
    # Plain columns, not ORM objects: building 100,000 entities would dominate a run.
    rows = await session.execute(
        select(
            Invoice.id,
            Invoice.number,
            Invoice.description,
            Invoice.amount,
            Invoice.late_fee,
            Invoice.currency,
            Invoice.issued_on,
            Invoice.due_on,
            *ACCOUNT_COLUMNS,
        )
        .join(Customer, Customer.id == Invoice.customer_id)
        .where(condition)
        .order_by(Invoice.due_on, Invoice.id)
    )
    accounts: Dict[int, Account] = {}
    result = []
    zero = Decimal("0.00")
    for row in rows.all():
        account = accounts.get(row[8]) or accounts.setdefault(row[8], Account(*row[8:13], *map(bool, row[13:15])))
        result.append(
            OpenInvoice(
                row[0],
                row[1],
                row[2],
                row[3],
                row[4] if row[4] is not None else zero,
                paid.get(row[0], zero).quantize(Decimal("0.01")),
                row[5],
                row[6],
                row[7],
                account,
            )
        )
    return result


async def invoice_by_number(session: AsyncSession, number: str) -> Optional[Tuple[int, str]]:
    """(id, status) of an invoice, whoever's it is (for the preview command)."""
    row = (await session.execute(select(Invoice.id, Invoice.status).where(Invoice.number == number))).first()
    return (row[0], row[1]) if row else None


async def any_invoice(session: AsyncSession, invoice_id: int) -> OpenInvoice:
    """Any invoice, open or not, as an OpenInvoice (the preview renders closed ones too)."""
    invoice, customer = (
        await session.execute(
            select(Invoice, Customer).join(Customer, Customer.id == Invoice.customer_id).where(Invoice.id == invoice_id)
        )
    ).one()
    paid = (await session.execute(select(func.sum(Payment.amount)).where(Payment.invoice_id == invoice_id))).scalar()
    return OpenInvoice(
        invoice.id,
        invoice.number,
        invoice.description,
        Decimal(invoice.amount),
        invoice.late_fee or Decimal("0.00"),
        Decimal(paid or 0).quantize(Decimal("0.01")),
        invoice.currency,
        invoice.issued_on,
        invoice.due_on,
        _account(customer),
    )


async def sent_stages(session: AsyncSession, due_by: dt.date, customers: Scope = None) -> Dict[int, Set[str]]:
    """Stages already sent to each open invoice due on or before ``due_by``."""
    rows = await session.execute(
        select(Reminder.invoice_id, Reminder.stage)
        .join(Invoice, Invoice.id == Reminder.invoice_id)
        .where(Invoice.status == "open", Invoice.due_on <= due_by, _only(Invoice.customer_id, customers))
    )
    sent: Dict[int, Set[str]] = defaultdict(set)
    for invoice_id, stage in rows.all():
        sent[invoice_id].add(stage)
    return sent


async def active_promises(session: AsyncSession, customers: Scope = None) -> List[PromiseRow]:
    rows = await session.execute(
        select(PromiseToPay).where(PromiseToPay.status == "active", _only(PromiseToPay.customer_id, customers))
    )
    return [
        PromiseRow(
            p.id,
            p.customer_id,
            p.invoice_id,
            p.promised_date,
            Decimal(p.amount) if p.amount is not None else None,
            p.created_at,
        )
        for p in rows.scalars().all()
    ]


async def held_customers(session: AsyncSession) -> Set[int]:
    """Customers whose conversation a person holds (pending or assigned).

    The engine's own broken-promise alert is not "held" while it waits in the queue:
    the schedule resumes after a broken promise until an agent takes the alert.
    """
    rows = await session.execute(
        select(Conversation.customer_id, Conversation.status, Handoff.reason)
        .outerjoin(Handoff, and_(Handoff.conversation_id == Conversation.id, Handoff.ended_at.is_(None)))
        .where(Conversation.customer_id.is_not(None), Conversation.status.in_(("pending", "assigned")))
    )
    return {
        customer_id for customer_id, status, reason in rows.all() if status == "assigned" or reason != BROKEN_PROMISE
    }


async def paid_since(session: AsyncSession, invoice_id: int, since: dt.datetime) -> Decimal:
    total = (
        await session.execute(
            select(func.sum(Payment.amount)).where(Payment.invoice_id == invoice_id, Payment.paid_at >= since)
        )
    ).scalar()
    return Decimal(total or 0)


async def invoice_status(session: AsyncSession, invoice_id: int) -> str:
    return (await session.execute(select(Invoice.status).where(Invoice.id == invoice_id))).scalar_one()


async def expiring_cards(
    session: AsyncSession, today: dt.date, days_before: int, customers: Scope = None
) -> List[Tuple[CardRow, Account]]:
    """Cards that are still valid today and expire within ``days_before`` days."""
    last = today + dt.timedelta(days=days_before)
    month = Card.exp_year * 12 + Card.exp_month
    rows = await session.execute(
        select(Card, Customer)
        .join(Customer, Customer.id == Card.customer_id)
        .where(
            month >= today.year * 12 + today.month,
            month <= last.year * 12 + last.month,
            _only(Card.customer_id, customers),
        )
        .order_by(Card.id)
    )
    return [
        (_card(card), _account(customer)) for card, customer in rows.all() if today <= _card(card).expires_on() <= last
    ]


async def attempts_on_open_invoices(session: AsyncSession, customers: Scope = None) -> Dict[int, List[AttemptRow]]:
    """Card attempts per open invoice, oldest first."""
    rows = await session.execute(
        select(PaymentAttempt)
        .join(Invoice, Invoice.id == PaymentAttempt.invoice_id)
        .where(Invoice.status == "open", _only(Invoice.customer_id, customers))
        .order_by(PaymentAttempt.attempted_at, PaymentAttempt.id)
    )
    attempts: Dict[int, List[AttemptRow]] = defaultdict(list)
    for a in rows.scalars().all():
        attempts[a.invoice_id].append(
            AttemptRow(a.id, a.invoice_id, a.card_id, a.attempted_at, a.outcome, a.decline_code, a.decline_type)
        )
    return attempts


async def cards_by_id(session: AsyncSession, ids: Iterable[int]) -> Dict[int, CardRow]:
    ids = list(set(ids))
    if not ids:
        return {}
    rows = await session.execute(select(Card).where(Card.id.in_(ids)))
    return {c.id: _card(c) for c in rows.scalars().all()}


async def default_cards(session: AsyncSession, customer_ids: Iterable[int]) -> Dict[int, CardRow]:
    """The card each customer would be charged on now (default first, then newest)."""
    ids = list(set(customer_ids))
    if not ids:
        return {}
    rows = await session.execute(
        select(Card).where(Card.customer_id.in_(ids)).order_by(Card.customer_id, Card.is_default.desc(), Card.id.desc())
    )
    cards: Dict[int, CardRow] = {}
    for card in rows.scalars().all():
        cards.setdefault(card.customer_id, _card(card))
    return cards
