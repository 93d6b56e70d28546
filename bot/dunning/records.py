"""Step 3 of the claim protocol: writing down what a sent letter did, in one transaction.

The same function records a normal send and a crashed run's claim found later,
because everything it needs was stored with the claim.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Sequence

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.accounts.models import Invoice
from bot.dunning import alerts, claims
from bot.dunning.claims import Claim
from bot.dunning.models import Reminder


def _reminder_insert(session: AsyncSession):
    module = postgresql if session.bind.dialect.name == "postgresql" else sqlite
    return module.insert(Reminder).on_conflict_do_nothing(index_elements=["invoice_id", "stage"])


async def record_sent(
    session: AsyncSession, run_id: str, sent: Sequence[Claim], sent_at: dt.datetime, state: str = "done"
) -> None:
    """Marks the claims done and records their reminders, fees and hand-overs."""
    if not sent:
        return
    await claims.finish(session, run_id, [c.key for c in sent], sent_at, state)
    reminders = [c for c in sent if c.kind == "reminder"]
    if reminders:
        # The Reminder row is what the bot and the console read ("why did I get a reminder").
        await session.execute(
            _reminder_insert(session),
            [
                {
                    "invoice_id": c.invoice_id,
                    "stage": c.stage,
                    "channel": c.detail.get("channel", "email"),
                    "sent_at": sent_at,
                    "message_id": c.message_id,
                }
                for c in reminders
            ],
        )
    for c in reminders:
        if c.detail.get("fee"):
            fee = Decimal(c.detail["fee"])
            # Set, not add: recording the same letter twice cannot charge the fee twice.
            await session.execute(
                update(Invoice)
                .where(Invoice.id == c.invoice_id, Invoice.late_fee < fee)
                .values(late_fee=fee)
                .execution_options(synchronize_session=False)
            )
        if c.detail.get("hand_to_person"):
            await alerts.alert_agents(
                session,
                customer_id=c.customer_id,
                invoice_number=c.detail["invoice_number"],
                reason=alerts.COLLECTIONS,
                now=sent_at,
                note=(
                    f"Dunning: invoice {c.detail['invoice_number']} reached the {c.stage} stage "
                    f"({c.detail.get('days_overdue')} days overdue, {c.detail.get('amount_due')} due). "
                    "The customer was told a person will contact them; reminders pause while you hold this."
                ),
                summary={
                    "invoice": c.detail["invoice_number"],
                    "stage": c.stage,
                    "amount_due": c.detail.get("amount_due"),
                    "days_overdue": c.detail.get("days_overdue"),
                },
            )
