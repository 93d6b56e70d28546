"""Telling an agent: an item in the console's queue, with a note saying why.

The dunning engine has no conversation with the customer, so it opens one on the
email channel keyed by the invoice ("dunning:INV-20015"), linked to the customer
(the console shows their account beside it), moves it to the queue with a handoff
whose reason is "broken_promise" or "collections", and leaves a system note (no
agent) with the details. A second alert for the same invoice while the first is
still open only adds a note.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Dict

from bot.hub import conversation_store as store
from bot.dunning.data import BROKEN_PROMISE

COLLECTIONS = "collections"
PRIORITY = {BROKEN_PROMISE: 3, COLLECTIONS: 3}


def session_key(invoice_number: str) -> str:
    return f"dunning:{invoice_number}"


async def alert_agents(session, *, customer_id: int, invoice_number: str, reason: str, note: str,
                       summary: Dict[str, Any], now: dt.datetime) -> int:
    """Queues the customer's invoice for a person; returns the conversation's id."""
    key = session_key(invoice_number)
    conversation = await store.latest_conversation(session, "email", key)
    if conversation is None or conversation.status not in ("pending", "assigned"):
        conversation = await store.create_conversation(session, "email", key, now)
        await store.update_conversation(session, conversation, now, customer_id=customer_id,
                                       customer_known_by="our_records")
        if await store.change_status(session, conversation, ("bot",), "pending", now):
            await store.create_handoff(session, conversation, reason, PRIORITY.get(reason, 3),
                                       {"reason": reason, "source": "dunning", **summary}, now)
    await store.add_note(session, conversation.id, None, note, now)
    return conversation.id
