"""Telling an agent about a bounce or a feedback report: a note on the conversation of our message,
else (a payment reminder) the invoice goes to the agents' queue like other dunning alerts, else,
when the address is a customer's, a new conversation in the queue for that customer. A report
about mail we never sent to anyone we know (backscatter) is only logged."""

from __future__ import annotations

import datetime as dt
from typing import Optional, Sequence

from bot.accounts import queries
from bot.conversations import store as conversation_store
from bot.conversations.lifecycle import Lifecycle, invoice_matter_key
from bot.email import threads


async def tell(
    session,
    *,
    lifecycle: Lifecycle,
    note: str,
    reason: str,
    original,
    original_message_id: Optional[str],
    addresses: Sequence[str],
    now: dt.datetime,
) -> bool:
    """``original``: our OutboundEmail that the report is about, when we know it. False when nobody was told."""
    if original is not None and original.conversation_id is not None:
        await conversation_store.add_note(session, original.conversation_id, None, note, now)
        return True
    number = threads.invoice_number_in(f"<{(original_message_id or '').strip('<>')}>")
    customer = await queries.find_customer(session, addresses[0]) if number and addresses else None
    if number and customer is not None and await queries.invoice_by_number(session, customer.id, number) is not None:
        # A payment reminder of ours: the invoice's matter, like the dunning engine's own alerts.
        await lifecycle.alert(
            session,
            session_key=invoice_matter_key(number),
            customer_id=customer.id,
            known_by="our_records",
            reason=reason,
            note=note,
            summary={"source": "dunning", "invoice": number},
            now=now,
        )
        return True
    customer = next((c for c in [await queries.find_customer(session, a) for a in addresses[:5]] if c), None)
    if customer is None:
        return False
    await lifecycle.alert(
        session,
        session_key=f"email-report:{customer.email.lower()}"[:128],
        customer_id=customer.id,
        known_by="email_address",
        reason=reason,
        note=note,
        summary={"source": "email", "addresses": list(addresses)[:5]},
        now=now,
    )
    return True
