"""The last step: automatic mail is held for an agent (never answered); anything else goes to
the router like a chat message, after the filters' transaction is committed."""

from __future__ import annotations

import logging
from typing import Optional

from bot.conversations import store as conversation_store
from bot.conversations.intake import Intake, MessageRejected
from bot.db import session_scope
from bot.email import quotes, store
from bot.email.inbound.arrival import Arrival, Outcome
from bot.email.models import EmailThread

logger = logging.getLogger(__name__)


def text_of(arrival: Arrival) -> str:
    """What the customer wrote, without quoted text and signature."""
    return quotes.strip_quoted(arrival.mail.text or "").strip()


async def hold_automatic(arrival: Arrival, session) -> Optional[Outcome]:
    """Filter: automatic mail is kept on its conversation for agents, never answered."""
    if arrival.automatic_reason is None:
        return None
    conversation = arrival.conversation
    assert conversation is not None  # thread.run, the filter before this one, always sets it
    await conversation_store.add_message(
        session,
        conversation,
        "customer",
        text_of(arrival) or "(empty)",
        "held_for_agent",
        arrival.now,
        client_message_id=arrival.message_id[:64],
    )
    logger.info(
        "no automatic reply to %s from %s: %s", arrival.message_id, arrival.mail.from_address, arrival.automatic_reason
    )
    return Outcome(arrival.message_id, "automatic", conversation.public_id, arrival.automatic_reason)


async def to_router(arrival: Arrival, router: Intake) -> Outcome:
    """Hands the message to the router (after commit); a reply to a resolved conversation opens a new one."""
    conversation = arrival.conversation
    assert conversation is not None  # set by thread.run: every filter ran before this
    text = text_of(arrival) or arrival.mail.subject or "(empty message)"
    try:
        accepted = await router.customer_message(
            "email",
            conversation.session_key,
            text[: arrival.settings.hub.max_message_chars],
            client_message_id=arrival.message_id[:64],
        )
    except MessageRejected as exc:
        return Outcome(arrival.message_id, "held", conversation.public_id, str(exc))
    await _thread_for_new_conversation(router.db_url, accepted.conversation_id, conversation.id)
    action = "duplicate" if accepted.duplicate else "routed"
    return Outcome(arrival.message_id, action, accepted.conversation_id)


async def _thread_for_new_conversation(db_url: str, public_id: str, previous_id: int) -> None:
    async with session_scope(db_url) as session:
        conversation = await conversation_store.get_conversation(session, public_id)
        if conversation is None or conversation.id == previous_id or await store.thread_for(session, conversation.id):
            return
        old = await store.thread_for(session, previous_id)
        if old is not None:
            session.add(
                EmailThread(
                    conversation_id=conversation.id,
                    customer_address=old.customer_address,
                    subject=old.subject,
                    references=old.references,
                    last_inbound_message_id=old.last_inbound_message_id,
                    last_emailed_message_id=old.last_emailed_message_id,
                )
            )
