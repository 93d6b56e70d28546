"""The one owner of a conversation's status changes: escalate, take, hand back,
resolve, and alert (a conversation opened for agents by dunning or the email channel).

Each change goes through :mod:`bot.conversations.status`'s transitions by
compare-and-set (two agents can never both win), keeps the handoff record in step,
and emits one :class:`Change` to the subscribers after the transaction commits, so
the consoles hear of every change, from every path, and never of one rolled back.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Dict, List, Optional, Set, Tuple

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from bot import handoff_reasons
from bot.conversations import handoffs, store
from bot.conversations import status as machine
from bot.conversations.models import Conversation

logger = logging.getLogger(__name__)

_PENDING = "lifecycle_changes"


def invoice_matter_key(invoice_number: str) -> str:
    """The email-channel session key of agents' matters about one invoice (dunning's alerts,
    replies to its reminders)."""
    return f"dunning:{invoice_number}"


@dataclass(frozen=True)
class Change:
    conversation_id: int
    public_id: str
    action: str  # escalate, take, hand_back, resolve
    status: str  # the status it led to


Listener = Callable[[Change], Awaitable[None]]


class Lifecycle:
    def __init__(self) -> None:
        self._listeners: List[Listener] = []
        self._dispatching: Set[asyncio.Task] = set()

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    # -- the changes ------------------------------------------------------------

    async def escalate(
        self,
        session: AsyncSession,
        conversation: Conversation,
        reason: str,
        priority: Optional[int],
        summary: Dict[str, Any],
        now: dt.datetime,
    ) -> bool:
        """To the agents' queue; False when people already hold it (or it is resolved)."""
        # Rasa's tracker is (or will be) paused while people hold it: resume before the bot hears it again.
        if not await self._change(
            session, conversation, "escalate", now, queue_notice_sent=False, rasa_needs_resume=True
        ):
            return False
        priority = priority if isinstance(priority, int) else handoff_reasons.priority(reason)
        await handoffs.create_handoff(session, conversation, reason, priority, summary, now)
        logger.info("conversation %s handed to people: %s", conversation.public_id, reason)
        return True

    async def take(self, session: AsyncSession, conversation: Conversation, agent_id: int, now: dt.datetime) -> bool:
        if not await self._change(session, conversation, "take", now, assigned_agent_id=agent_id):
            return False
        await handoffs.mark_taken(session, conversation.id, agent_id, now)
        return True

    async def hand_back(self, session: AsyncSession, conversation: Conversation, now: dt.datetime) -> bool:
        if not await self._change(
            session, conversation, "hand_back", now, assigned_agent_id=None, queue_notice_sent=False
        ):
            return False
        await handoffs.end_handoff(session, conversation.id, "handed_back", now)
        return True

    async def resolve(self, session: AsyncSession, conversation: Conversation, now: dt.datetime) -> bool:
        if not await self._change(session, conversation, "resolve", now, resolved_at=now, csat_requested_at=now):
            return False
        await handoffs.end_handoff(session, conversation.id, "resolved", now)
        return True

    async def alert(
        self,
        session: AsyncSession,
        *,
        session_key: str,
        customer_id: int,
        known_by: str,
        reason: str,
        note: str,
        summary: Dict[str, Any],
        now: dt.datetime,
    ) -> int:
        """Puts a matter in the agents' queue on the email channel, keyed by what it is about
        ("dunning:INV-20015"), with a system note saying why; a second alert while the first
        is still open only adds a note. Returns the conversation's id."""
        conversation = await store.latest_conversation(session, "email", session_key)
        if conversation is None or conversation.status not in machine.WITH_PEOPLE:
            conversation = await store.create_conversation(session, "email", session_key, now)
            await store.update_conversation(
                session, conversation, now, customer_id=customer_id, customer_known_by=known_by
            )
            await self.escalate(session, conversation, reason, None, {"reason": reason, **summary}, now)
        await store.add_note(session, conversation.id, None, note, now)
        return conversation.id

    # -- mechanics --------------------------------------------------------------

    async def _change(
        self, session: AsyncSession, conversation: Conversation, action: str, now: dt.datetime, **values: Any
    ) -> bool:
        if not await store.change_status(
            session, conversation, machine.sources(action), machine.target(action), now, **values
        ):
            return False
        self._remember(session, Change(conversation.id, conversation.public_id, action, machine.target(action)))
        return True

    def _remember(self, session: AsyncSession, change: Change) -> None:
        """Keeps the change in the session until its transaction ends (see _committed below)."""
        if self._listeners:
            session.info.setdefault(_PENDING, []).append((self, asyncio.get_running_loop(), change))

    def _deliver(self, loop: asyncio.AbstractEventLoop, changes: List[Change]) -> None:
        task = loop.create_task(self._dispatch(changes))
        self._dispatching.add(task)
        task.add_done_callback(self._dispatching.discard)

    @property
    def dispatching(self) -> bool:
        return bool(self._dispatching)

    async def settle(self) -> None:
        """Waits until the subscribers have heard of every committed change (tests, shutdown)."""
        while self._dispatching:
            await asyncio.gather(*list(self._dispatching), return_exceptions=True)

    async def _dispatch(self, changes: List[Change]) -> None:
        for change in changes:
            for listener in list(self._listeners):
                try:
                    await listener(change)
                except Exception:  # one failing subscriber must not stop the others
                    logger.exception("a subscriber failed on %s of %s", change.action, change.public_id)


# One pair of listeners for every session, registered once: the changes wait in the
# session's info until its transaction commits (then they are delivered) or rolls back.
@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    grouped: Dict[Lifecycle, Tuple[asyncio.AbstractEventLoop, List[Change]]] = {}
    for lifecycle, loop, change in session.info.pop(_PENDING, []):
        grouped.setdefault(lifecycle, (loop, []))[1].append(change)
    for lifecycle, (loop, changes) in grouped.items():
        lifecycle._deliver(loop, changes)


@event.listens_for(Session, "after_soft_rollback")
def _rolled_back(session: Session, previous_transaction: Any) -> None:
    if session.in_transaction():
        return  # a savepoint rolled back: the changes before it may still commit
    session.info.pop(_PENDING, None)
