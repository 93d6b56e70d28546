"""Demo data: customers covering every situation the bot must handle.

Dates are relative to "today" so the aging buckets stay right whenever the demo
runs. The same seed always makes the same data (fixed random seed). The named
scenario customers are listed in README.md so a person can try each one.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any, List, Tuple

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.accounts import identifiers
from bot.accounts.models import (
    Card,
    Customer,
    Invoice,
    Payment,
    PaymentAttempt,
    PromiseToPay,
    VerificationSecret,
)
from bot.demo.scenarios import DESCRIPTIONS, all_scenarios
from bot.dunning.models import Reminder
from bot.security import hash_secret

# Days after the due date at which each reminder stage goes out (the dunning
# issue replaces this with the policy file; the seed only needs plausible history).
STAGE_DAYS = (("upcoming", -3), ("friendly", 3), ("firm", 30), ("final", 60), ("collections", 90))
LATE_FEE = Decimal("25.00")


def _months_ahead(today: dt.date, months: int) -> Tuple[int, int]:
    index = today.year * 12 + (today.month - 1) + months
    return index // 12, index % 12 + 1


def _stages_sent(days_overdue: int) -> List[str]:
    return [stage for stage, day in STAGE_DAYS if days_overdue >= day]


async def seed(
    session: AsyncSession,
    today: dt.date,
    *,
    filler: int = 32,
    secret_iterations: int = 120_000,
) -> int:
    """Inserts the demo customers; returns how many were created."""
    rng = random.Random(7)
    now = dt.datetime.combine(today, dt.time(9, 0), tzinfo=dt.timezone.utc)
    invoice_seq = 20001
    scenarios = all_scenarios(filler)
    for index, sc in enumerate(scenarios, start=1):
        customer = Customer(
            account_number=identifiers.account_number(str(100000 + index)),
            name=sc.name,
            email=sc.email,
            phone=f"+1 555 01{index:02d}",
            reminders_opt_out=sc.opted_out,
            email_undeliverable=sc.undeliverable,
            created_at=now - dt.timedelta(days=400),
        )
        session.add(customer)
        await session.flush()
        secrets = [("zip_code", sc.zip_code)]
        card = None
        if sc.card:
            brand, last4, months = sc.card
            exp_year, exp_month = _months_ahead(today, months)
            card = Card(
                customer_id=customer.id,
                brand=brand,
                last4=last4,
                exp_month=exp_month,
                exp_year=exp_year,
                is_default=True,
            )
            session.add(card)
            secrets.append(("last_four", last4))
        for kind, value in secrets:
            hashed = hash_secret(value, secret_iterations)
            session.add(
                VerificationSecret(
                    customer_id=customer.id,
                    kind=kind,
                    salt=hashed.salt,
                    digest=hashed.digest,
                    iterations=hashed.iterations,
                )
            )
        await session.flush()

        def new_invoice(due_on: dt.date, status: str, customer: Customer = customer, sc: Any = sc) -> Invoice:
            nonlocal invoice_seq
            amount = Decimal(rng.randrange(4000, 42000)) / 100
            invoice = Invoice(
                number=identifiers.invoice_number(str(invoice_seq)),
                customer_id=customer.id,
                description=rng.choice(DESCRIPTIONS),
                amount=amount,
                currency=sc.currency,
                issued_on=due_on - dt.timedelta(days=30),
                due_on=due_on,
                status=status,
                late_fee=Decimal("0.00"),
            )
            invoice_seq += 1
            session.add(invoice)
            return invoice

        for months_back in range(sc.paid_invoices, 0, -1):
            due = today - dt.timedelta(days=30 * months_back + 35)
            invoice = new_invoice(due, "paid")
            invoice.paid_on = due - dt.timedelta(days=rng.randint(0, 5))
            await session.flush()
            session.add(
                Payment(
                    invoice_id=invoice.id,
                    amount=invoice.amount,
                    currency=invoice.currency,
                    paid_at=dt.datetime.combine(invoice.paid_on, dt.time(12), tzinfo=dt.timezone.utc),
                    method="card",
                )
            )

        open_invoices = []
        for days in sc.days_overdue:
            invoice = new_invoice(today - dt.timedelta(days=days), "disputed" if sc.disputed else "open")
            await session.flush()
            open_invoices.append(invoice)
            for stage in _stages_sent(days):
                if stage == "final":
                    invoice.late_fee = LATE_FEE
                sent_day = invoice.due_on + dt.timedelta(days=dict(STAGE_DAYS)[stage])
                session.add(
                    Reminder(
                        invoice_id=invoice.id,
                        stage=stage,
                        channel="email",
                        sent_at=dt.datetime.combine(sent_day, dt.time(10), tzinfo=dt.timezone.utc),
                        message_id=f"<reminder-{invoice.number}-{stage}@northwind.example>",
                    )
                )
            if sc.disputed:
                break  # a disputed invoice stops reminders; one is enough

        if sc.decline and open_invoices:
            target = open_invoices[-1]
            code, kind = sc.decline
            attempt_day = max(target.due_on, today - dt.timedelta(days=2))
            session.add(
                PaymentAttempt(
                    invoice_id=target.id,
                    card_id=card.id if card else None,
                    attempted_at=dt.datetime.combine(attempt_day, dt.time(6), tzinfo=dt.timezone.utc),
                    amount=target.amount,
                    outcome="declined",
                    decline_code=code,
                    decline_type=kind,
                )
            )

        if sc.promise_in_days is not None and open_invoices:
            target = open_invoices[0]
            session.add(
                PromiseToPay(
                    customer_id=customer.id,
                    invoice_id=target.id,
                    kind="promise",
                    amount=target.amount,
                    currency=target.currency,
                    promised_date=today + dt.timedelta(days=sc.promise_in_days),
                    status="active",
                    channel="chat",
                    created_at=now - dt.timedelta(days=2),
                )
            )
        await session.flush()
    return len(scenarios)


async def customer_count(session: AsyncSession) -> int:
    return (await session.execute(select(func.count(Customer.id)))).scalar_one()


async def clear(session: AsyncSession) -> None:
    """Removes all account data (children first, so it works without cascades)."""
    for model in (Reminder, PromiseToPay, PaymentAttempt, Payment, Invoice, Card, VerificationSecret, Customer):
        await session.execute(delete(model))
