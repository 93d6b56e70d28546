"""Data functions over the account database.

Each takes an ``AsyncSession`` and leaves the transaction to the caller. They
return plain dataclasses so callers never touch lazy-loaded attributes after
the session is gone.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Dict, List, Optional, Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import (
    Card,
    Customer,
    Escalation,
    Invoice,
    Payment,
    PaymentAttempt,
    PromiseToPay,
    Reminder,
    VerificationSecret,
)
from bot.security import HashedSecret, check_secret, normalize_secret

OUTSTANDING_STATUSES = ("open", "disputed")


@dataclass(frozen=True)
class CustomerView:
    id: int
    account_number: str
    name: str
    email: str
    reminders_opt_out: bool
    email_undeliverable: bool

    @property
    def first_name(self) -> str:
        return self.name.split()[0]


@dataclass(frozen=True)
class InvoiceView:
    number: str
    description: str
    amount: Decimal
    late_fee: Decimal
    paid: Decimal
    currency: str
    issued_on: dt.date
    due_on: dt.date
    status: str
    paid_on: Optional[dt.date]

    @property
    def amount_due(self) -> Decimal:
        if self.status in ("paid", "void", "written_off"):
            return Decimal("0.00")
        return max(self.amount + self.late_fee - self.paid, Decimal("0.00"))

    def days_overdue(self, today: dt.date) -> int:
        return max((today - self.due_on).days, 0)


def card_expires_on(exp_month: int, exp_year: int) -> dt.date:
    """The last day a card is valid: the end of its expiry month."""
    first_of_next = dt.date(exp_year + exp_month // 12, exp_month % 12 + 1, 1)
    return first_of_next - dt.timedelta(days=1)


@dataclass(frozen=True)
class CardView:
    brand: str
    last4: str
    exp_month: int
    exp_year: int

    def expires_on(self) -> dt.date:
        return card_expires_on(self.exp_month, self.exp_year)


@dataclass(frozen=True)
class ReminderView:
    stage: str
    sent_at: dt.datetime
    channel: str
    invoice: InvoiceView


@dataclass(frozen=True)
class AttemptView:
    attempted_at: dt.datetime
    amount: Decimal
    outcome: str
    decline_code: Optional[str]
    decline_type: Optional[str]
    invoice_number: str
    currency: str
    card: Optional[CardView]


@dataclass(frozen=True)
class PromiseView:
    promised_date: dt.date
    amount: Optional[Decimal]
    currency: Optional[str]
    kind: str
    status: str
    invoice_number: Optional[str]


@dataclass
class Balance:
    """What a customer owes, per currency; disputed amounts are kept apart."""

    due: Dict[str, Decimal] = field(default_factory=dict)
    disputed: Dict[str, Decimal] = field(default_factory=dict)
    open_invoices: int = 0


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


def _invoice_view(invoice: Invoice, paid: Decimal) -> InvoiceView:
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


async def _invoice_views(session: AsyncSession, invoices: Sequence[Invoice]) -> List[InvoiceView]:
    paid = await _paid_by_invoice(session, [i.id for i in invoices])
    return [_invoice_view(i, paid.get(i.id, Decimal("0.00"))) for i in invoices]


def normalize_account_number(raw: str) -> Optional[str]:
    """'ac 100042', 'AC100042' and 'AC-100042' all become 'AC-100042'."""
    match = re.fullmatch(r"\s*ac[\s\-#]*(\d{6})\s*", raw or "", flags=re.IGNORECASE)
    return f"AC-{match.group(1)}" if match else None


def normalize_invoice_number(raw: str) -> Optional[str]:
    """'inv 20431' and 'INV20431' become 'INV-20431'."""
    match = re.fullmatch(r"\s*inv[\s\-#]*(\d{5})\s*", raw or "", flags=re.IGNORECASE)
    return f"INV-{match.group(1)}" if match else None


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


async def check_verification_secret(
    session: AsyncSession, customer_id: int, raw_secret: str
) -> bool:
    """True when what the customer typed matches any secret the account holds.

    The slow hash runs in a worker thread so the event loop keeps serving.
    """
    rows = (
        await session.execute(
            select(VerificationSecret).where(VerificationSecret.customer_id == customer_id)
        )
    ).scalars().all()
    typed_digits = re.sub(r"\D", "", raw_secret or "")
    for secret in rows:
        # Only a reply of exactly the right length is compared: a 5-digit ZIP guess
        # must not also count as a guess of the card's last four digits.
        expected_length = 5 if secret.kind == "zip_code" else 4
        if len(typed_digits) != expected_length:
            continue
        candidate = normalize_secret(secret.kind, typed_digits)
        stored = HashedSecret(secret.salt, secret.digest, secret.iterations)
        if await asyncio.to_thread(check_secret, candidate, stored):
            return True
    return False


async def invoices_for(
    session: AsyncSession, customer_id: int, statuses: Sequence[str] = OUTSTANDING_STATUSES
) -> List[InvoiceView]:
    invoices = (
        await session.execute(
            select(Invoice)
            .where(Invoice.customer_id == customer_id, Invoice.status.in_(statuses))
            .order_by(Invoice.due_on, Invoice.number)
        )
    ).scalars().all()
    return await _invoice_views(session, invoices)


async def invoice_by_number(
    session: AsyncSession, customer_id: int, number: str
) -> Optional[InvoiceView]:
    """The customer's invoice with that number; another customer's invoice is None."""
    normalized = normalize_invoice_number(number)
    if not normalized:
        return None
    invoice = (
        await session.execute(
            select(Invoice).where(Invoice.customer_id == customer_id, Invoice.number == normalized)
        )
    ).scalar_one_or_none()
    if invoice is None:
        return None
    return (await _invoice_views(session, [invoice]))[0]


async def balance_for(session: AsyncSession, customer_id: int) -> Balance:
    balance = Balance()
    for invoice in await invoices_for(session, customer_id):
        due = invoice.amount + invoice.late_fee - invoice.paid
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


async def latest_reminder(
    session: AsyncSession, customer_id: int, invoice_number: Optional[str] = None
) -> Optional[ReminderView]:
    query = (
        select(Reminder, Invoice)
        .join(Invoice, Reminder.invoice_id == Invoice.id)
        .where(Invoice.customer_id == customer_id)
        .order_by(Reminder.sent_at.desc(), Reminder.id.desc())
        .limit(1)
    )
    if invoice_number:
        query = query.where(Invoice.number == normalize_invoice_number(invoice_number))
    row = (await session.execute(query)).first()
    if row is None:
        return None
    reminder, invoice = row
    (invoice_view,) = await _invoice_views(session, [invoice])
    return ReminderView(reminder.stage, reminder.sent_at, reminder.channel, invoice_view)


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
        await session.execute(
            select(PromiseToPay).where(
                PromiseToPay.customer_id == customer_id, PromiseToPay.status == "active"
            )
        )
    ).scalars().all()
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


async def record_escalation(
    session: AsyncSession,
    conversation_id: str,
    reason: str,
    priority: int,
    summary: dict,
    now: dt.datetime,
    customer_id: Optional[int] = None,
) -> int:
    escalation = Escalation(
        conversation_id=conversation_id,
        customer_id=customer_id,
        reason=reason,
        priority=priority,
        summary=json.dumps(summary, default=str),
        created_at=now,
    )
    session.add(escalation)
    await session.flush()
    return escalation.id
