"""Data functions over the accounts' tables.

Each takes an ``AsyncSession`` and leaves the transaction to the caller. They
return the read models of :mod:`bot.accounts.views`, so callers never touch
lazy-loaded attributes after the session is gone.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Dict, List, Optional, Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.accounts.identifiers import normalize_account_number, normalize_invoice_number
from bot.accounts.models import Card, Customer, Invoice, Payment, PaymentAttempt, PromiseToPay
from bot.accounts.views import (
    OUTSTANDING_STATUSES,
    AttemptView,
    Balance,
    CardView,
    CustomerView,
    InvoiceView,
    PromiseView,
)


def _customer_view(customer: Customer) -> CustomerView:
    return CustomerView(
        id=customer.id,
        account_number=customer.account_number,
        name=customer.name,
        email=customer.email,
        reminders_opt_out=customer.reminders_opt_out,
        email_undeliverable=customer.email_undeliverable,
    )


def _card_view(card: Card) -> CardView:
    return CardView(card.brand, card.last4, card.exp_month, card.exp_year)


async def _paid_by_invoice(session: AsyncSession, invoice_ids: Sequence[int]) -> Dict[int, Decimal]:
    if not invoice_ids:
        return {}
    rows = await session.execute(
        select(Payment.invoice_id, func.coalesce(func.sum(Payment.amount), 0))
        .where(Payment.invoice_id.in_(invoice_ids))
        .group_by(Payment.invoice_id)
    )
    return {invoice_id: Decimal(str(total)) for invoice_id, total in rows.all()}


def invoice_view(invoice: Invoice, paid: Decimal) -> InvoiceView:
    return InvoiceView(
        number=invoice.number,
        description=invoice.description,
        amount=Decimal(invoice.amount),
        late_fee=invoice.late_fee if invoice.late_fee is not None else Decimal("0.00"),
        paid=paid,
        currency=invoice.currency,
        issued_on=invoice.issued_on,
        due_on=invoice.due_on,
        status=invoice.status,
        paid_on=invoice.paid_on,
    )


async def invoice_views(session: AsyncSession, invoices: Sequence[Invoice]) -> List[InvoiceView]:
    paid = await _paid_by_invoice(session, [i.id for i in invoices])
    return [invoice_view(i, paid.get(i.id, Decimal("0.00"))) for i in invoices]


async def find_customer(session: AsyncSession, identifier: str) -> Optional[CustomerView]:
    """By account number or email address; None when there is no such account."""
    account_number = normalize_account_number(identifier)
    if account_number:
        condition = Customer.account_number == account_number
    elif "@" in (identifier or ""):
        condition = func.lower(Customer.email) == identifier.strip().lower()
    else:
        return None
    customer = (await session.execute(select(Customer).where(condition))).scalar_one_or_none()
    return _customer_view(customer) if customer else None


async def get_customer(session: AsyncSession, customer_id: int) -> Optional[CustomerView]:
    customer = await session.get(Customer, customer_id)
    return _customer_view(customer) if customer else None


async def invoices_for(
    session: AsyncSession, customer_id: int, statuses: Sequence[str] = OUTSTANDING_STATUSES
) -> List[InvoiceView]:
    invoices = (
        (
            await session.execute(
                select(Invoice)
                .where(Invoice.customer_id == customer_id, Invoice.status.in_(statuses))
                .order_by(Invoice.due_on, Invoice.number)
            )
        )
        .scalars()
        .all()
    )
    return await invoice_views(session, invoices)


async def invoice_by_number(session: AsyncSession, customer_id: int, number: str) -> Optional[InvoiceView]:
    """The customer's invoice with that number; another customer's invoice is None."""
    normalized = normalize_invoice_number(number)
    if not normalized:
        return None
    invoice = (
        await session.execute(select(Invoice).where(Invoice.customer_id == customer_id, Invoice.number == normalized))
    ).scalar_one_or_none()
    if invoice is None:
        return None
    return (await invoice_views(session, [invoice]))[0]


async def balance_for(session: AsyncSession, customer_id: int) -> Balance:
    balance = Balance()
    for invoice in await invoices_for(session, customer_id):
        due = invoice.amount_due
        if due <= 0:
            continue
        bucket = balance.disputed if invoice.status == "disputed" else balance.due
        bucket[invoice.currency] = bucket.get(invoice.currency, Decimal("0.00")) + due
        if invoice.status == "open":
            balance.open_invoices += 1
    return balance


async def next_invoice_due(session: AsyncSession, customer_id: int) -> Optional[InvoiceView]:
    """The open invoice with the earliest due date (an overdue one comes first)."""
    open_invoices = [i for i in await invoices_for(session, customer_id, ("open",)) if i.amount_due > 0]
    return open_invoices[0] if open_invoices else None


async def default_card(session: AsyncSession, customer_id: int) -> Optional[CardView]:
    card = (
        await session.execute(
            select(Card)
            .where(Card.customer_id == customer_id)
            .order_by(Card.is_default.desc(), Card.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    return _card_view(card) if card else None


async def latest_failed_attempt(session: AsyncSession, customer_id: int) -> Optional[AttemptView]:
    row = (
        await session.execute(
            select(PaymentAttempt, Invoice, Card)
            .join(Invoice, PaymentAttempt.invoice_id == Invoice.id)
            .outerjoin(Card, PaymentAttempt.card_id == Card.id)
            .where(Invoice.customer_id == customer_id, PaymentAttempt.outcome == "declined")
            .order_by(PaymentAttempt.attempted_at.desc(), PaymentAttempt.id.desc())
            .limit(1)
        )
    ).first()
    if row is None:
        return None
    attempt, invoice, card = row
    return AttemptView(
        attempted_at=attempt.attempted_at,
        amount=Decimal(attempt.amount),
        outcome=attempt.outcome,
        decline_code=attempt.decline_code,
        decline_type=attempt.decline_type,
        invoice_number=invoice.number,
        currency=invoice.currency,
        card=_card_view(card) if card else None,
    )


async def active_promise(session: AsyncSession, customer_id: int) -> Optional[PromiseView]:
    row = (
        await session.execute(
            select(PromiseToPay, Invoice)
            .outerjoin(Invoice, PromiseToPay.invoice_id == Invoice.id)
            .where(PromiseToPay.customer_id == customer_id, PromiseToPay.status == "active")
            .order_by(PromiseToPay.created_at.desc(), PromiseToPay.id.desc())
            .limit(1)
        )
    ).first()
    if row is None:
        return None
    promise, invoice = row
    return PromiseView(
        promised_date=promise.promised_date,
        amount=Decimal(promise.amount) if promise.amount is not None else None,
        currency=promise.currency,
        kind=promise.kind,
        status=promise.status,
        invoice_number=invoice.number if invoice else None,
    )


async def record_promise(
    session: AsyncSession,
    customer_id: int,
    promised_date: dt.date,
    now: dt.datetime,
    *,
    invoice_number: Optional[str] = None,
    amount: Optional[Decimal] = None,
    currency: Optional[str] = None,
    kind: str = "promise",
    channel: str = "chat",
) -> PromiseView:
    """Stores a promise (or granted extension); an earlier active one is replaced."""
    invoice_id = None
    if invoice_number:
        invoice_id = (
            await session.execute(
                select(Invoice.id).where(
                    Invoice.customer_id == customer_id,
                    Invoice.number == normalize_invoice_number(invoice_number),
                )
            )
        ).scalar_one_or_none()
    earlier = (
        (
            await session.execute(
                select(PromiseToPay).where(PromiseToPay.customer_id == customer_id, PromiseToPay.status == "active")
            )
        )
        .scalars()
        .all()
    )
    for promise in earlier:
        promise.status = "cancelled"
    session.add(
        PromiseToPay(
            customer_id=customer_id,
            invoice_id=invoice_id,
            kind=kind,
            amount=amount,
            currency=currency,
            promised_date=promised_date,
            status="active",
            channel=channel,
            created_at=now,
        )
    )
    await session.flush()
    return PromiseView(promised_date, amount, currency, kind, "active", invoice_number)
