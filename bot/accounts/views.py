"""The accounts' read models: plain frozen dataclasses that callers keep after the
session is gone, and the money and date arithmetic every caller shares.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Dict, Optional

# Invoice statuses that still count as owed (a disputed amount is kept apart, not dropped).
OUTSTANDING_STATUSES = ("open", "disputed")
SETTLED_STATUSES = ("paid", "void", "written_off")
ZERO = Decimal("0.00")


def amount_due(amount: Decimal, late_fee: Decimal, paid: Decimal, status: str = "open") -> Decimal:
    """What is still owed on an invoice: nothing once settled, never below zero."""
    if status in SETTLED_STATUSES:
        return ZERO
    return max(amount + late_fee - paid, ZERO)


def days_past_due(due_on: dt.date, today: dt.date) -> int:
    """Signed: -3 is three days before the due date, 0 the due date itself."""
    return (today - due_on).days


def days_overdue(due_on: dt.date, today: dt.date) -> int:
    """What a customer is told: 0 until the due date has passed."""
    return max(days_past_due(due_on, today), 0)


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
        return amount_due(self.amount, self.late_fee, self.paid, self.status)

    def days_overdue(self, today: dt.date) -> int:
        return days_overdue(self.due_on, today)


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
