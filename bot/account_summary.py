"""One summary of a verified customer's account for the agent: what the handoff
action sends with an escalation and what the console's customer panel shows.

One definition each of what is owed and of the account's dunning stage (the
furthest stage reached by an invoice still owed), read in one place.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

from sqlalchemy.ext.asyncio import AsyncSession

from bot.accounts import queries
from bot.accounts.views import CardView, CustomerView, InvoiceView, PromiseView
from bot.dunning.history import STAGE_WORDS, ReminderView, furthest_stage, latest_reminder


@dataclass(frozen=True)
class AccountSummary:
    customer: CustomerView
    invoices: List[InvoiceView]  # open and disputed, oldest due first
    dunning_stage: Optional[str]  # a stage name (see STAGE_WORDS), or None
    last_reminder: Optional[ReminderView]
    card: Optional[CardView]
    active_promise: Optional[PromiseView]

    @property
    def owed(self) -> List[InvoiceView]:
        return [i for i in self.invoices if i.amount_due > 0]

    def for_handoff(self, today: dt.date) -> Dict[str, Any]:
        """The JSON the handoff action sends with an escalation."""
        customer, reminder, promise = self.customer, self.last_reminder, self.active_promise
        return {
            "customer_id": customer.id,
            "account_number": customer.account_number,
            "name": customer.name,
            "email": customer.email,
            "open_invoices": [
                {
                    "number": i.number,
                    "amount_due": str(i.amount_due),
                    "currency": i.currency,
                    "due_on": i.due_on.isoformat(),
                    "days_overdue": i.days_overdue(today),
                    "status": i.status,
                }
                for i in self.owed
            ],
            "dunning_stage": STAGE_WORDS.get(self.dunning_stage, self.dunning_stage) if self.dunning_stage else None,
            "last_reminder": {
                "stage": reminder.stage,
                "invoice": reminder.invoice.number,
                "sent_at": reminder.sent_at.isoformat(),
            }
            if reminder
            else None,
            "active_promise": {"date": promise.promised_date.isoformat(), "kind": promise.kind} if promise else None,
        }


async def account_summary(session: AsyncSession, customer_id: int) -> Optional[AccountSummary]:
    """None when there is no such customer."""
    customer = await queries.get_customer(session, customer_id)
    if customer is None:
        return None
    invoices = await queries.invoices_for(session, customer_id)
    return AccountSummary(
        customer=customer,
        invoices=invoices,
        dunning_stage=await furthest_stage(session, customer_id, [i for i in invoices if i.amount_due > 0]),
        last_reminder=await latest_reminder(session, customer_id),
        card=await queries.default_card(session, customer_id),
        active_promise=await queries.active_promise(session, customer_id),
    )
