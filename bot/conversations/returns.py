"""Which conversation follows which for the same customer: ``conversations.next_start_at``.

The reports count a conversation as reopened when the same customer started another one soon after
it ended (bot.analytics.metrics.is_reopened). "The same customer" is the verified customer when
there is one (on any channel), otherwise the same widget session or email thread: a conversation's
*line*. Each conversation keeps when the next one in its line (in order of start, then id) started,
so a report reads it instead of ordering every conversation of its period by line.

This module is the column's only writer. :func:`bot.conversations.store.create_conversation` and
:func:`bot.conversations.store.update_conversation` (when the customer changes, the conversation
leaves one line for another) call :func:`relink`; whatever writes conversations in bulk (migration
0009, the demo history, test fixtures, the report bench) runs :data:`BACKFILL` (:func:`backfill`)
afterwards. Relinking rewrites a whole line, so a line two processes changed at once is set right
by its next change.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple, Optional

from sqlalchemy import and_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.conversations.models import Conversation


class Line(NamedTuple):
    """A customer's line: the verified customer, else the channel and its session key."""

    customer_id: Optional[int]
    channel: Optional[str]
    session_key: Optional[str]


def line_of(customer_id: Optional[int], channel: str, session_key: str) -> Line:
    if customer_id is not None:
        return Line(customer_id, None, None)
    return Line(None, channel, session_key)


async def relink(session: AsyncSession, *lines: Line) -> None:
    """Sets each conversation's ``next_start_at`` in these lines from the conversations in them now
    (the caller has flushed its changes)."""
    for line in dict.fromkeys(lines):
        if line.customer_id is not None:
            where = Conversation.customer_id == line.customer_id
        else:
            where = and_(
                Conversation.customer_id.is_(None),
                Conversation.channel == line.channel,
                Conversation.session_key == line.session_key,
            )
        rows = (
            await session.execute(
                select(Conversation.id, Conversation.created_at, Conversation.next_start_at)
                .where(where)
                .order_by(Conversation.created_at, Conversation.id)
            )
        ).all()
        following: list[Optional[dt.datetime]] = [row.created_at for row in rows[1:]]
        for row, next_start in zip(rows, [*following, None], strict=False):  # the line may be empty now
            if row.next_start_at != next_start:
                await session.execute(
                    update(Conversation)
                    .where(Conversation.id == row.id)
                    .values(next_start_at=next_start)
                    .execution_options(synchronize_session=False)
                )


# Every line at once (PostgreSQL, and SQLite 3.33 or later for UPDATE ... FROM). Migration 0009 runs
# the same statement.
BACKFILL = text(
    """
    UPDATE conversations SET next_start_at = later.next_start_at
    FROM (
        SELECT id, lead(created_at) OVER (
            PARTITION BY customer_id,
                         CASE WHEN customer_id IS NULL THEN channel END,
                         CASE WHEN customer_id IS NULL THEN session_key END
            ORDER BY created_at, id
        ) AS next_start_at
        FROM conversations
    ) AS later
    WHERE later.id = conversations.id
    """
)


async def backfill(session: AsyncSession) -> None:
    await session.execute(BACKFILL)
