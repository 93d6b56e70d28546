"""Filter: the same message is processed once (keyed by Message-ID, or a digest of its bytes)."""

from __future__ import annotations

from typing import Optional

from bot.conversations.models import Conversation
from bot.email import store
from bot.email.inbound.arrival import Arrival, Outcome


async def run(arrival: Arrival, session) -> Optional[Outcome]:
    existing = await store.inbound_by_message_id(session, arrival.message_id)
    if existing is None:
        return None
    if existing.automatic_reason or existing.conversation_id is None:
        return Outcome(arrival.message_id, "duplicate")
    # Stored but maybe not routed (a crash before it was marked processed): route it again into the
    # same conversation, where its Message-ID dedupes it at the router.
    arrival.seen_before = True
    arrival.conversation = await session.get(Conversation, existing.conversation_id)
    return None
