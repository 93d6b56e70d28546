"""Data functions over the conversation store.

Each takes an ``AsyncSession`` and leaves the transaction to the caller.
Status changes are compare-and-set updates (``WHERE status = :expected``), so
two agents, or two hub processes, can never both win the same change.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any, Dict, List, Optional, Sequence, Tuple

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.conversations import handoffs, returns
from bot.conversations.models import CannedReply, Conversation, CsatRating, Message, Note

OPEN_STATUSES = ("bot", "pending", "assigned")


async def latest_conversation(session: AsyncSession, channel: str, session_key: str) -> Optional[Conversation]:
    """The newest conversation of a widget session or email thread, whatever its status."""
    result = await session.execute(
        select(Conversation)
        .where(Conversation.channel == channel, Conversation.session_key == session_key)
        .order_by(Conversation.id.desc())
        .limit(1)
    )
    return result.scalar_one_or_none()


async def create_conversation(session: AsyncSession, channel: str, session_key: str, now: dt.datetime) -> Conversation:
    conversation = Conversation(
        public_id=uuid.uuid4().hex,
        channel=channel,
        session_key=session_key,
        status="bot",
        queue_notice_sent=False,
        outage_notice_sent=False,
        rasa_needs_resume=False,
        created_at=now,
        updated_at=now,
    )
    session.add(conversation)
    await session.flush()
    await returns.relink(session, returns.line_of(None, channel, session_key))
    return conversation


async def get_conversation(session: AsyncSession, public_id: str) -> Optional[Conversation]:
    result = await session.execute(select(Conversation).where(Conversation.public_id == public_id))
    return result.scalar_one_or_none()


async def get_conversation_by_id(session: AsyncSession, conversation_id: int) -> Optional[Conversation]:
    return await session.get(Conversation, conversation_id)


async def existing_conversation(session: AsyncSession, conversation_id: int) -> Conversation:
    """The conversation of an id read from the store (a message's, a handoff's): it exists, since
    conversations are never deleted (only the demo's own history is cleared, offline)."""
    conversation = await session.get(Conversation, conversation_id)
    assert conversation is not None, f"conversation {conversation_id} is gone"
    return conversation


async def existing_message(session: AsyncSession, message_id: int) -> Message:
    """The message of an id read from the store: it exists, since messages are never deleted either."""
    message = await session.get(Message, message_id)
    assert message is not None, f"message {message_id} is gone"
    return message


async def change_status(
    session: AsyncSession,
    conversation: Conversation,
    expected: Sequence[str],
    new_status: str,
    now: dt.datetime,
    **values: Any,
) -> bool:
    """Moves a conversation to ``new_status`` only if it is still in one of ``expected``.

    Returns False when someone else changed it first; the object is refreshed either way.
    """
    result = await session.execute(
        update(Conversation)
        .where(Conversation.id == conversation.id, Conversation.status.in_(tuple(expected)))
        .values(status=new_status, updated_at=now, **values)
        .execution_options(synchronize_session=False)
    )
    await session.refresh(conversation)
    return result.rowcount == 1


async def update_conversation(
    session: AsyncSession, conversation: Conversation, now: dt.datetime, **values: Any
) -> None:
    """Sets the columns given; a new customer moves the conversation to that customer's line."""
    before = returns.line_of(conversation.customer_id, conversation.channel, conversation.session_key)
    for key, value in values.items():
        setattr(conversation, key, value)
    conversation.updated_at = now
    await session.flush()
    after = returns.line_of(conversation.customer_id, conversation.channel, conversation.session_key)
    if after != before:
        await returns.relink(session, before, after)


async def add_message(
    session: AsyncSession,
    conversation: Conversation,
    sender: str,
    text: str,
    delivery: str,
    now: dt.datetime,
    payload: Optional[Dict[str, Any]] = None,
    client_message_id: Optional[str] = None,
    agent_id: Optional[int] = None,
    claimed_by: Optional[int] = None,
) -> Tuple[Message, bool]:
    """Stores a message; returns it and whether it is new.

    A customer message re-sent with the same client id returns the stored one
    (``False``), so a retry after a lost acknowledgement is never stored twice.
    """
    if client_message_id is not None:
        existing = await message_by_client_id(session, conversation.id, client_message_id)
        if existing is not None:
            return existing, False
    message = Message(
        conversation_id=conversation.id,
        sender=sender,
        text=text,
        delivery=delivery,
        payload=json.dumps(payload) if payload else None,
        client_message_id=client_message_id,
        agent_id=agent_id,
        created_at=now,
        claimed_by=claimed_by,
    )
    try:
        async with session.begin_nested():
            session.add(message)
            await session.flush()
    except IntegrityError:
        if client_message_id is None:
            raise  # no duplicate to find: another constraint refused it (and IS NULL would match other messages)
        # Another process stored the same client message between our check and insert.
        existing = await message_by_client_id(session, conversation.id, client_message_id)
        if existing is None:
            raise
        return existing, False
    if sender == "agent":
        await handoffs.note_agent_reply(session, conversation.id, now)
    conversation.updated_at = now
    return message, True


async def message_by_client_id(
    session: AsyncSession, conversation_id: int, client_message_id: str
) -> Optional[Message]:
    result = await session.execute(
        select(Message).where(
            Message.conversation_id == conversation_id, Message.client_message_id == client_message_id
        )
    )
    return result.scalar_one_or_none()


async def set_delivery(session: AsyncSession, message_ids: Sequence[int], delivery: str) -> None:
    if message_ids:
        await session.execute(
            update(Message)
            .where(Message.id.in_(tuple(message_ids)))
            .values(delivery=delivery)
            .execution_options(synchronize_session=False)
        )


async def messages_for(session: AsyncSession, conversation_id: int, limit: int = 500) -> List[Message]:
    result = await session.execute(
        select(Message).where(Message.conversation_id == conversation_id).order_by(Message.id.desc()).limit(limit)
    )
    return list(reversed(result.scalars().all()))


async def session_messages(session: AsyncSession, channel: str, session_key: str, limit: int = 200) -> List[Message]:
    """Every message of a widget session, across its conversations, oldest first."""
    result = await session.execute(
        select(Message)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(Conversation.channel == channel, Conversation.session_key == session_key)
        .order_by(Message.id.desc())
        .limit(limit)
    )
    return list(reversed(result.scalars().all()))


async def waiting_for_bot(
    session: AsyncSession, conversation_id: Optional[int] = None, before_message_id: Optional[int] = None
) -> List[Message]:
    """Customer messages kept while Rasa was unreachable, oldest first (of one conversation, or all)."""
    query = select(Message).where(Message.delivery == "waiting_for_bot").order_by(Message.id)
    if conversation_id is not None:
        query = query.where(Message.conversation_id == conversation_id)
    if before_message_id is not None:
        query = query.where(Message.id < before_message_id)
    result = await session.execute(query)
    return list(result.scalars().all())


async def conversations(
    session: AsyncSession, status: Optional[str] = None, agent_id: Optional[int] = None, limit: int = 100
) -> List[Conversation]:
    query = select(Conversation).order_by(Conversation.updated_at.desc()).limit(limit)
    if status:
        query = query.where(Conversation.status == status)
    if agent_id is not None:
        query = query.where(Conversation.assigned_agent_id == agent_id)
    result = await session.execute(query)
    return list(result.scalars().all())


async def customer_conversations(session: AsyncSession, customer_id: int, limit: int = 10) -> List[Conversation]:
    result = await session.execute(
        select(Conversation)
        .where(Conversation.customer_id == customer_id)
        .order_by(Conversation.created_at.desc())
        .limit(limit)
    )
    return list(result.scalars().all())


async def _last_text(session: AsyncSession, conversation_id: int, senders: Sequence[str]) -> Optional[str]:
    result = await session.execute(
        select(Message.text)
        .where(Message.conversation_id == conversation_id, Message.sender.in_(tuple(senders)))
        .order_by(Message.id.desc())
        .limit(1)
    )
    return result.scalar_one_or_none()


async def last_reply_text(session: AsyncSession, conversation_id: int) -> Optional[str]:
    """What the bot or the hub said last in the conversation."""
    return await _last_text(session, conversation_id, ("bot", "system"))


async def last_customer_text(session: AsyncSession, conversation_id: int) -> str:
    return await _last_text(session, conversation_id, ("customer",)) or ""


async def add_note(
    session: AsyncSession, conversation_id: int, agent_id: Optional[int], text: str, now: dt.datetime
) -> Note:
    """A private note; ``agent_id`` None for notes the system writes for agents (e.g. a bounce)."""
    note = Note(conversation_id=conversation_id, agent_id=agent_id, text=text, created_at=now)
    session.add(note)
    await session.flush()
    return note


async def notes_for(session: AsyncSession, conversation_id: int) -> List[Note]:
    result = await session.execute(select(Note).where(Note.conversation_id == conversation_id).order_by(Note.id))
    return list(result.scalars().all())


async def canned_replies(session: AsyncSession) -> List[CannedReply]:
    result = await session.execute(select(CannedReply).order_by(CannedReply.title))
    return list(result.scalars().all())


async def add_canned_reply(session: AsyncSession, title: str, text: str) -> CannedReply:
    reply = CannedReply(title=title, text=text)
    session.add(reply)
    await session.flush()
    return reply


async def record_csat(session: AsyncSession, conversation_id: int, rating: int, now: dt.datetime) -> bool:
    """Stores the rating; False when this conversation was already rated."""
    existing = await session.execute(select(CsatRating.id).where(CsatRating.conversation_id == conversation_id))
    if existing.scalar_one_or_none() is not None:
        return False
    session.add(CsatRating(conversation_id=conversation_id, rating=rating, created_at=now))
    await session.flush()
    return True


async def csat_for(session: AsyncSession, conversation_id: int) -> Optional[int]:
    result = await session.execute(select(CsatRating.rating).where(CsatRating.conversation_id == conversation_id))
    return result.scalar_one_or_none()
