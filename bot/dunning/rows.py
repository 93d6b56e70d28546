"""The plain rows a dunning run reads (built by bot.dunning.data, read by the planners and renderers)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Optional

from bot.accounts import views as amounts


@dataclass(frozen=True)
class Account:
    id: int
    account_number: str
    name: str
    email: str
    timezone: str
    opted_out: bool
    undeliverable: bool


@dataclass(frozen=True)
class OpenInvoice:
    id: int
    number: str
    description: str
    amount: Decimal
    late_fee: Decimal
    paid: Decimal
    currency: str
    issued_on: dt.date
    due_on: dt.date
    account: Account

    @property
    def amount_due(self) -> Decimal:
        return amounts.amount_due(self.amount, self.late_fee, self.paid)

    def days_overdue(self, today: dt.date) -> int:
        """Negative before the due date: -3 is three days before (the schedule counts from it)."""
        return amounts.days_past_due(self.due_on, today)


@dataclass(frozen=True)
class CardRow:
    id: int
    customer_id: int
    brand: str
    last4: str
    exp_month: int
    exp_year: int

    def expires_on(self) -> dt.date:
        return amounts.card_expires_on(self.exp_month, self.exp_year)


@dataclass(frozen=True)
class PromiseRow:
    id: int
    customer_id: int
    invoice_id: Optional[int]
    promised_date: dt.date
    amount: Optional[Decimal]
    created_at: dt.datetime


@dataclass(frozen=True)
class AttemptRow:
    id: int
    invoice_id: int
    card_id: Optional[int]
    attempted_at: dt.datetime
    outcome: str
    decline_code: Optional[str]
    decline_type: Optional[str]
