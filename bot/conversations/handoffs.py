"""Handoffs and the agents' queue: a conversation's stays with people, and who waits
longest at which priority. Data functions; the caller owns the transaction.

Also the only writer of ``handoffs.first_agent_reply_at`` (the reports' first response time):
:func:`bot.conversations.store.add_message` calls :func:`note_agent_reply` for each agent message;
whatever writes handoffs or messages in bulk (migration 0009, the demo history, test fixtures, the
report bench) runs :data:`BACKFILL_FIRST_REPLY` (:func:`backfill_first_replies`) afterwards."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Dict, List, Optional, Tuple

from sqlalchemy import and_, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.conversations.models import Conversation, Handoff


async def open_handoff(session: AsyncSession, conversation_id: int) -> Optional[Handoff]:
    result = await session.execute(
        select(Handoff)
        .where(Handoff.conversation_id == conversation_id, Handoff.ended_at.is_(None))
        .order_by(Handoff.id.desc())
        .limit(1)
    )
    return result.scalar_one_or_none()


async def latest_handoff(session: AsyncSession, conversation_id: int) -> Optional[Handoff]:
    result = await session.execute(
        select(Handoff).where(Handoff.conversation_id == conversation_id).order_by(Handoff.id.desc()).limit(1)
    )
    return result.scalar_one_or_none()


async def create_handoff(
    session: AsyncSession,
    conversation: Conversation,
    reason: str,
    priority: int,
    summary: Dict[str, Any],
    now: dt.datetime,
) -> Handoff:
    handoff = Handoff(
        conversation_id=conversation.id,
        reason=reason,
        priority=priority,
        summary=json.dumps(summary, default=str),
        requested_at=now,
    )
    session.add(handoff)
    await session.flush()
    return handoff


async def end_handoff(session: AsyncSession, conversation_id: int, outcome: str, now: dt.datetime) -> None:
    await session.execute(
        update(Handoff)
        .where(Handoff.conversation_id == conversation_id, Handoff.ended_at.is_(None))
        .values(ended_at=now, outcome=outcome)
        .execution_options(synchronize_session=False)
    )


async def mark_taken(session: AsyncSession, conversation_id: int, agent_id: int, now: dt.datetime) -> None:
    await session.execute(
        update(Handoff)
        .where(Handoff.conversation_id == conversation_id, Handoff.ended_at.is_(None))
        .values(taken_at=now, taken_by=agent_id)
        .execution_options(synchronize_session=False)
    )


async def note_agent_reply(session: AsyncSession, conversation_id: int, now: dt.datetime) -> None:
    """An agent wrote in the conversation at ``now``: the first reply of every handoff requested
    at or before it that had none (messages are stored in the order they are written)."""
    await session.execute(
        update(Handoff)
        .where(
            Handoff.conversation_id == conversation_id,
            Handoff.first_agent_reply_at.is_(None),
            Handoff.requested_at <= now,
        )
        .values(first_agent_reply_at=now)
        .execution_options(synchronize_session=False)
    )


# Every handoff at once: the first agent message at or after its request. Migration 0009 runs the same.
BACKFILL_FIRST_REPLY = text(
    """
    UPDATE handoffs SET first_agent_reply_at = (
        SELECT min(messages.created_at) FROM messages
        WHERE messages.conversation_id = handoffs.conversation_id
          AND messages.sender = 'agent'
          AND messages.created_at >= handoffs.requested_at
    )
    """
)


async def backfill_first_replies(session: AsyncSession) -> None:
    await session.execute(BACKFILL_FIRST_REPLY)


async def queue(session: AsyncSession) -> List[Tuple[Conversation, Handoff]]:
    """Conversations waiting for a person: most urgent first, then longest waiting."""
    result = await session.execute(
        select(Conversation, Handoff)
        .join(Handoff, and_(Handoff.conversation_id == Conversation.id, Handoff.ended_at.is_(None)))
        .where(Conversation.status == "pending")
        .order_by(Handoff.priority, Handoff.requested_at, Handoff.id)
    )
    return [(row[0], row[1]) for row in result.all()]


async def queue_position(session: AsyncSession, handoff: Handoff) -> int:
    """1 for the next conversation an agent will take."""
    ahead = await session.execute(
        select(func.count(Handoff.id))
        .join(Conversation, Conversation.id == Handoff.conversation_id)
        .where(
            Conversation.status == "pending",
            Handoff.ended_at.is_(None),
            Handoff.id != handoff.id,
            (Handoff.priority < handoff.priority)
            | ((Handoff.priority == handoff.priority) & (Handoff.requested_at <= handoff.requested_at)),
        )
    )
    return int(ahead.scalar_one()) + 1
