"""Telling an agent about a bounce or a feedback report: a note on the conversation of our message,
else (a payment reminder) the invoice goes to the agents' queue like other dunning alerts, else,
when the address is a customer's, a new conversation in the queue for that customer. A report
about mail we never sent to anyone we know (backscatter) is only logged."""

from __future__ import annotations

import datetime as dt
from typing import Optional, Sequence

from bot.hub import conversation_store as conversation_store
from bot.accounts import queries
from bot.dunning import alerts
from bot.email import threads

QUEUE_PRIORITY = 2


async def tell(session, *, note: str, reason: str, original, original_message_id: Optional[str],
               addresses: Sequence[str], now: dt.datetime) -> bool:
    """``original``: our OutboundEmail that the report is about, when we know it. False when nobody was told."""
    if original is not None and original.conversation_id is not None:
        await conversation_store.add_note(session, original.conversation_id, None, note, now)
        return True
    number = threads.invoice_number_in(f"<{(original_message_id or '').strip('<>')}>")
    customer = await queries.find_customer(session, addresses[0]) if number and addresses else None
    if customer is not None and await queries.invoice_by_number(session, customer.id, number) is not None:
        await alerts.alert_agents(session, customer_id=customer.id, invoice_number=number, reason=reason,
                                  note=note, summary={"invoice": number}, now=now)
        return True
    customer = next((c for c in [await queries.find_customer(session, a) for a in addresses[:5]] if c), None)
    if customer is None:
        return False
    key = f"email-report:{customer.email.lower()}"[:128]
    conversation = await conversation_store.latest_conversation(session, "email", key)
    if conversation is None or conversation.status not in ("pending", "assigned"):
        conversation = await conversation_store.create_conversation(session, "email", key, now)
        await conversation_store.update_conversation(session, conversation, now, customer_id=customer.id,
                                                     customer_known_by="email_address")
        if await conversation_store.change_status(session, conversation, ("bot",), "pending", now):
            await conversation_store.create_handoff(session, conversation, reason, QUEUE_PRIORITY,
                                                    {"reason": reason, "source": "email",
                                                     "addresses": list(addresses)[:5]}, now)
    await conversation_store.add_note(session, conversation.id, None, note, now)
    return True
