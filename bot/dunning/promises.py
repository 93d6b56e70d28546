"""Promises to pay whose date has passed: kept, or broken.

A broken promise (the date passed and the invoice is still owed) stops pausing the
schedule, so the reminder the invoice has reached goes out in the same run, and an
agent is told through the console queue (alerts.py). The status change is a
compare-and-set, so two overlapping runs alert once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import List, Set

from sqlalchemy import update

from bot.accounts.models import PromiseToPay
from bot.db import session_scope
from bot.dunning import alerts, data
from bot.nlu.amounts import format_money


@dataclass
class PromiseResult:
    kept: List[str] = field(default_factory=list)
    broken: List[str] = field(default_factory=list)
    # Promises found broken; a dry run leaves them active, so the plan must ignore them itself.
    broken_ids: Set[int] = field(default_factory=set)


def _kept(promise: data.PromiseRow, owed: List[data.OpenInvoice], paid_since: Decimal) -> bool:
    if not owed:
        return True
    return promise.amount is not None and promise.invoice_id is not None and paid_since >= promise.amount


async def settle(
    url: str, now: dt.datetime, today: dt.date, dry_run: bool, customers: data.Scope = None
) -> PromiseResult:
    result = PromiseResult()
    async with session_scope(url) as session:
        expired = [p for p in await data.active_promises(session, customers) if p.promised_date < today]
        customers = {p.customer_id for p in expired}
        invoices = (
            [i for i in await data.open_invoices(session, dt.date.max) if i.account.id in customers] if expired else []
        )
        for promise in expired:
            owed = [
                i
                for i in invoices
                if i.account.id == promise.customer_id and i.amount_due > 0 and promise.invoice_id in (None, i.id)
            ]
            paid = (
                await data.paid_since(session, promise.invoice_id, promise.created_at)
                if promise.invoice_id
                else Decimal(0)
            )
            status = "kept" if _kept(promise, owed, paid) else "broken"
            label = (
                f"promise {promise.id} of customer {promise.customer_id} to pay by "
                f"{promise.promised_date.isoformat()}: {status}"
            )
            if dry_run:
                (result.kept if status == "kept" else result.broken).append(label)
                if status == "broken":
                    result.broken_ids.add(promise.id)
                continue
            changed = await session.execute(
                update(PromiseToPay)
                .where(PromiseToPay.id == promise.id, PromiseToPay.status == "active")
                .values(status=status)
                .execution_options(synchronize_session=False)
            )
            if changed.rowcount != 1:
                continue  # another run settled it
            if status == "kept":
                result.kept.append(label)
                continue
            invoice = owed[0]
            amount = format_money(invoice.amount_due, invoice.currency)
            await alerts.alert_agents(
                session,
                customer_id=promise.customer_id,
                invoice_number=invoice.number,
                reason=data.BROKEN_PROMISE,
                now=now,
                note=(
                    f"Dunning: {invoice.account.name} ({invoice.account.account_number}) promised to pay "
                    f"invoice {invoice.number} by {promise.promised_date.isoformat()}, and {amount} is still "
                    "owed. Reminders have resumed; consider calling the customer. Taking this pauses reminders "
                    "until you hand it back or resolve it."
                ),
                summary={
                    "invoice": invoice.number,
                    "promised_date": promise.promised_date.isoformat(),
                    "promised_amount": str(promise.amount) if promise.amount is not None else None,
                    "amount_due": amount,
                    "days_overdue": invoice.days_overdue(today),
                },
            )
            result.broken.append(label)
    return result
