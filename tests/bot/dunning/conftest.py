"""A world for dunning tests: fresh customers of its own on the seeded database (SQLite,
and the PostgreSQL database the whole run shares), a real SMTP server, runs limited
to the world's customers, and everything it made deleted afterwards."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import List, Optional, Sequence, Tuple
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, select

from bot.accounts.models import (
    Card,
    Customer,
    Invoice,
    Payment,
    PaymentAttempt,
    PromiseToPay,
    VerificationSecret,
)
from bot.conversations.models import Conversation, Handoff, Message, Note
from bot.db import session_scope
from bot.dunning import engine
from bot.dunning.models import DunningClaim, Reminder
from tests.conftest import TODAY, use_settings

NEW_YORK = ZoneInfo("America/New_York")
NO_SYNC = {"synchronize_session": False}


def at(days: int = 0, hour: int = 12, minute: int = 0, zone=NEW_YORK) -> dt.datetime:
    """A moment ``days`` after the tests' TODAY, on a wall clock in ``zone``, expressed in UTC
    (what the project stores: SQLite keeps no offset)."""
    local = dt.datetime.combine(TODAY + dt.timedelta(days=days), dt.time(hour, minute), tzinfo=zone)
    return local.astimezone(dt.timezone.utc)


def months_ahead(months: int) -> Tuple[int, int]:
    index = TODAY.year * 12 + TODAY.month - 1 + months
    return index // 12, index % 12 + 1


@dataclass
class Made:
    customer_id: int
    account_number: str
    email: str
    invoice_ids: List[int]
    numbers: List[str]
    card_id: Optional[int]


@dataclass
class World:
    url: str
    settings: object
    smtp: object
    customer_ids: List[int] = field(default_factory=list)

    async def customer(self, days_overdue: Sequence[int] = (10,), *, sent: Sequence[str] = (), last4: str = "4242",
                       card_months: Optional[int] = 24, timezone: str = "America/New_York", opted_out: bool = False,
                       undeliverable: bool = False, email: Optional[str] = None, currency: str = "USD",
                       status: str = "open", amount: str = "120.00") -> Made:
        """A customer with one invoice per entry of ``days_overdue`` (as of TODAY); ``sent`` stages are history."""
        tag = uuid.uuid4().hex[:10]
        address = f"dunning-{tag}@example.org" if email is None else email
        async with session_scope(self.url) as session:
            customer = Customer(account_number=f"T{tag}", name="Robin Test", email=address,
                                timezone=timezone, reminders_opt_out=opted_out, email_undeliverable=undeliverable,
                                created_at=at(-400))
            session.add(customer)
            await session.flush()
            card_id = None
            if card_months is not None:
                year, month = months_ahead(card_months)
                card = Card(customer_id=customer.id, brand="visa", last4=last4, exp_month=month, exp_year=year,
                            is_default=True)
                session.add(card)
                await session.flush()
                card_id = card.id
            ids, numbers = [], []
            for index, days in enumerate(days_overdue):
                due = TODAY - dt.timedelta(days=days)
                invoice = Invoice(number=f"INV-{tag[:9]}{index}", customer_id=customer.id, description="Energy plan",
                                  amount=Decimal(amount), currency=currency, issued_on=due - dt.timedelta(days=30),
                                  due_on=due, status=status, late_fee=Decimal("0.00"))
                session.add(invoice)
                await session.flush()
                for stage in sent:
                    session.add(Reminder(invoice_id=invoice.id, stage=stage, channel="email", sent_at=at(-days),
                                         message_id=f"<old.{invoice.number}.{stage}@northwind.example>"))
                ids.append(invoice.id)
                numbers.append(invoice.number)
        self.customer_ids.append(customer.id)
        return Made(customer.id, customer.account_number, customer.email, ids, numbers, card_id)

    async def run(self, now: dt.datetime, **kwargs) -> engine.RunReport:
        kwargs.setdefault("customers", list(self.customer_ids))
        return await engine.run(now, **kwargs)

    def mail_to(self, address: str):
        return [m for m in self.smtp.messages if m["To"] == address]

    async def stages(self, invoice_id: int) -> List[str]:
        async with session_scope(self.url) as session:
            rows = await session.execute(select(Reminder.stage).where(Reminder.invoice_id == invoice_id)
                                         .order_by(Reminder.id))
            return list(rows.scalars().all())

    async def claims(self, invoice_id: Optional[int] = None) -> List[DunningClaim]:
        async with session_scope(self.url) as session:
            query = select(DunningClaim).where(DunningClaim.customer_id.in_(self.customer_ids))
            if invoice_id is not None:
                query = query.where(DunningClaim.invoice_id == invoice_id)
            return list((await session.execute(query.order_by(DunningClaim.id))).scalars().all())

    async def cleanup(self) -> None:
        if not self.customer_ids:
            return
        ids = self.customer_ids
        async with session_scope(self.url) as session:
            conversations = select(Conversation.id).where(Conversation.customer_id.in_(ids))
            invoices = select(Invoice.id).where(Invoice.customer_id.in_(ids))
            for model in (Note, Handoff, Message):
                await session.execute(delete(model).where(model.conversation_id.in_(conversations)).execution_options(**NO_SYNC))
            await session.execute(delete(Conversation).where(Conversation.customer_id.in_(ids)).execution_options(**NO_SYNC))
            await session.execute(delete(DunningClaim).where(DunningClaim.customer_id.in_(ids)).execution_options(**NO_SYNC))
            for model in (Reminder, Payment, PaymentAttempt):
                await session.execute(delete(model).where(model.invoice_id.in_(invoices)).execution_options(**NO_SYNC))
            for model in (PromiseToPay, Invoice, Card, VerificationSecret):
                await session.execute(delete(model).where(model.customer_id.in_(ids)).execution_options(**NO_SYNC))
            await session.execute(delete(Customer).where(Customer.id.in_(ids)).execution_options(**NO_SYNC))


@pytest.fixture
async def world(any_db, smtp_server, monkeypatch):
    settings = use_settings(monkeypatch, database_url=any_db, smtp_timeout_seconds="5", **smtp_server.settings())
    w = World(any_db, settings, smtp_server)
    yield w
    await w.cleanup()
