"""Which hub process routes a customer message. Several hub processes share one database: each
claims the messages it routes (``messages.claimed_by``, its bot.hub.instance id), so a kept message
is retried by one process only, and the messages of a process that died are picked up by another.
"""

from __future__ import annotations

from typing import List, Sequence, Set, Tuple

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.conversations.models import Conversation, Message


async def orphaned_customer_messages(session: AsyncSession, live_hubs: Sequence[int]) -> List[Tuple[int, str]]:
    """Customer messages stored but not yet answered whose hub process is gone (crashed, killed),
    with their conversation's status."""
    result = await session.execute(
        select(Message.id, Conversation.status)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(
            Message.delivery == "received",
            Message.sender == "customer",
            or_(Message.claimed_by.is_(None), Message.claimed_by.not_in(tuple(live_hubs))),
        )
    )
    return [(row[0], row[1]) for row in result.all()]


async def unanswered_messages_of(session: AsyncSession, hub: int) -> List[Tuple[int, str, str, str]]:
    """Customer messages this hub process claimed and has not answered yet: (id, conversation status,
    channel, session key)."""
    result = await session.execute(
        select(Message.id, Conversation.status, Conversation.channel, Conversation.session_key)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(Message.delivery == "received", Message.sender == "customer", Message.claimed_by == hub)
    )
    return [(row[0], row[1], row[2], row[3]) for row in result.all()]


async def hubs_with_unanswered_messages(session: AsyncSession) -> Set[int]:
    """The hub processes that hold customer messages stored but not yet answered."""
    result = await session.execute(
        select(Message.claimed_by)
        .where(Message.delivery == "received", Message.sender == "customer", Message.claimed_by.is_not(None))
        .distinct()
    )
    return {int(row[0]) for row in result.all()}


async def release_orphans(session: AsyncSession, message_ids: Sequence[int], delivery: str) -> None:
    """Hands orphaned messages on (``waiting_for_bot`` or ``held_for_agent``), unless their hub
    answered them meanwhile."""
    if message_ids:
        await session.execute(
            update(Message)
            .where(Message.id.in_(tuple(message_ids)), Message.delivery == "received")
            .values(delivery=delivery, claimed_by=None)
            .execution_options(synchronize_session=False)
        )


async def claim_for_bot(session: AsyncSession, message_id: int, hub: int) -> bool:
    """Takes a kept message to send to the bot again; False when another hub process took it first."""
    result = await session.execute(
        update(Message)
        .where(Message.id == message_id, Message.delivery == "waiting_for_bot")
        .values(delivery="received", claimed_by=hub)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1
