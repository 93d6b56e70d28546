"""The reminders a customer was sent, as the bot and the agents explain them.

Data functions take a session; the caller owns the transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Iterable, Optional

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.accounts.identifiers import normalize_invoice_number
from bot.accounts.models import Invoice
from bot.accounts.queries import invoice_views
from bot.accounts.views import InvoiceView
from bot.dunning.models import Reminder

# Each stage in escalating order, with the word a customer hears for it.
STAGE_WORDS = {
    "upcoming": "payment-due-soon",
    "friendly": "friendly",
    "firm": "second",
    "final": "final",
    "collections": "final",
}


@dataclass(frozen=True)
class ReminderView:
    stage: str
    sent_at: dt.datetime
    channel: str
    invoice: InvoiceView


async def latest_reminder(
    session: AsyncSession, customer_id: int, invoice_number: Optional[str] = None
) -> Optional[ReminderView]:
    """The newest reminder sent to the customer (for that invoice, when a number is given)."""
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
    (invoice_view,) = await invoice_views(session, [invoice])
    return ReminderView(reminder.stage, reminder.sent_at, reminder.channel, invoice_view)


async def furthest_stage(session: AsyncSession, customer_id: int, owed: Iterable[InvoiceView]) -> Optional[str]:
    """The account's dunning stage: the furthest stage reached by an invoice still owed,
    not the stage of whichever reminder went out last."""
    order = list(STAGE_WORDS)
    stages = []
    for invoice in owed:
        latest = await latest_reminder(session, customer_id, invoice.number)
        if latest is not None:
            stages.append(latest.stage)
    return max(stages, key=lambda s: order.index(s) if s in order else -1, default=None)
