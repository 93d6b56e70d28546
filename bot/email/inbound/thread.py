"""Filter: which conversation the message belongs to (``bot.email.threads``), and storing it there.

In-Reply-To / References against what we received and sent, then a reply to a
payment reminder joins its invoice's conversation, then the ``[ref:...]`` token in
the subject (only for the same sender); otherwise a new conversation. Answers go
to the sender's Reply-To address when it gave one.
"""

from __future__ import annotations

import datetime as dt
from typing import Optional

from bot.accounts import queries
from bot.conversations import store as conversation_store
from bot.conversations.lifecycle import invoice_matter_key
from bot.conversations.models import Conversation
from bot.email import parse, store, threads
from bot.email.inbound.arrival import Arrival, Outcome
from bot.email.models import EmailThread


async def run(arrival: Arrival, session) -> Optional[Outcome]:
    mail = arrival.mail
    if arrival.conversation is None:
        arrival.conversation = await _conversation_for(session, mail, arrival.now)
    if not arrival.seen_before:
        session.add(arrival.record(arrival.conversation.id, arrival.automatic_reason, with_attachments=True))
    thread = await store.thread_for(session, arrival.conversation.id)
    if thread is not None:
        thread.last_inbound_message_id = f"<{arrival.message_id.strip('<>')}>"
        thread.references = threads.extend_references(
            thread.references, *mail.references, mail.in_reply_to, arrival.message_id
        )
    return None


def _new_thread(conversation: Conversation, mail: parse.InboundEmail) -> EmailThread:
    return EmailThread(
        conversation_id=conversation.id,
        customer_address=(mail.reply_address or "")[:254],
        subject=(mail.subject or "")[:255],
        references="",
        last_emailed_message_id=0,
    )


async def _conversation_for(session, mail: parse.InboundEmail, now: dt.datetime) -> Conversation:
    candidates = threads.candidate_ids(mail.in_reply_to, mail.references)
    conversation = await store.conversation_for_message_ids(session, candidates)
    if conversation is None:
        conversation = await _reminder_conversation(session, mail, candidates, now)
    token = threads.token_in(mail.subject or "")
    if conversation is None and token:
        conversation = await store.conversation_for_token(session, token)
        if conversation is not None and conversation.channel == "email":
            thread = await store.thread_for(session, conversation.id)
            # A token only joins the thread of the same sender: tokens are visible in subjects.
            if thread is None or thread.customer_address.lower() not in {
                (mail.from_address or "").lower(),
                (mail.reply_address or "").lower(),
            }:
                conversation = None
    if conversation is not None and conversation.channel == "email":
        latest = await conversation_store.latest_conversation(session, "email", conversation.session_key)
        return latest or conversation
    root = (mail.message_id or f"thread.{now.timestamp()}")[:128]
    conversation = await conversation_store.create_conversation(session, "email", root, now)
    session.add(_new_thread(conversation, mail))
    await session.flush()
    return conversation


async def _reminder_conversation(
    session, mail: parse.InboundEmail, candidates, now: dt.datetime
) -> Optional[Conversation]:
    """A reply to a payment reminder joins its invoice's conversation (the one dunning alerts use)."""
    number = next((n for n in (threads.invoice_number_in(f"<{mid}>") for mid in candidates) if n), None)
    if number is None:
        return None
    key = invoice_matter_key(number)
    conversation = await conversation_store.latest_conversation(session, "email", key)
    if conversation is None:
        conversation = await conversation_store.create_conversation(session, "email", key, now)
        customer = await queries.find_customer(session, mail.from_address) if mail.from_address else None
        if customer is not None and await queries.invoice_by_number(session, customer.id, number) is not None:
            # The address on file wrote about its own invoice: agents see whose it is (not proof for the bot).
            await conversation_store.update_conversation(
                session, conversation, now, customer_id=customer.id, customer_known_by="email_address"
            )
    if await store.thread_for(session, conversation.id) is None:
        session.add(_new_thread(conversation, mail))
        await session.flush()
    return conversation
