"""Routing: every customer message is stored first, then routed by status.

- ``bot``: forwarded to Rasa (:mod:`bot.hub.bot_turn`); the replies are stored and
  relayed. A ``handoff`` payload from the actions moves the conversation to ``pending``.
- ``pending`` / ``assigned``: the bot stays silent; agents see the message live.
  The customer is told once that a person is coming and their place in the queue.
- Rasa unreachable: the message is kept (``waiting_for_bot``), the customer is
  told once, :mod:`bot.hub.outage` answers it when Rasa is back, or after
  ``rasa_outage_handoff_seconds`` a person takes over instead.

Work for one conversation runs strictly in arrival order (:mod:`bot.hub.ordering`).
Status changes go through :mod:`bot.conversations.lifecycle`, whose change events the
router turns into console updates. Agents act through :mod:`bot.hub.agent_desk`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
from typing import Any, Awaitable, Callable, Dict, List, Optional, Protocol

from bot.config import Settings
from bot.conversations import agents as agent_data
from bot.conversations import handoffs, message_views, store
from bot.conversations import status as machine
from bot.conversations.intake import (
    Accepted,
    ConversationNotFound,
    MessageRejected,
    clean_text,
    conversation_key,
    utcnow,
)
from bot.conversations.lifecycle import Change, Lifecycle
from bot.conversations.models import Agent, Conversation, Message
from bot.db import session_scope
from bot.hub import metrics as hub_metrics
from bot.hub import notices, views
from bot.hub.bot_turn import BotTurn
from bot.hub.instance import HubInstance
from bot.hub.ordering import SerialExecutor
from bot.hub.rasa_client import Rasa

logger = logging.getLogger(__name__)

_RATING = re.compile(r"^\s*/?(?:csat_rating\D*)?([1-5])\D*$")


class Delivery(Protocol):
    """Where the router's output goes: the customer's channel and the agents' consoles."""

    async def to_customer(self, conversation: Conversation, message: Dict[str, Any]) -> None: ...

    async def typing(self, conversation: Conversation, active: bool, who: str) -> None: ...

    async def to_agents(self, event: str, data: Dict[str, Any]) -> None: ...


class Router:
    def __init__(
        self,
        settings: Settings,
        rasa: Rasa,
        delivery: Delivery,
        db_url: Optional[str] = None,
        clock: Callable[[], dt.datetime] = utcnow,
        instance: Optional[HubInstance] = None,
    ) -> None:
        self.settings = settings
        self.rasa = rasa
        self.delivery = delivery
        self.db_url = db_url or settings.database_url
        self.clock = clock
        # This process among the hubs sharing the database: it claims the messages it routes.
        self.instance = instance or HubInstance(self.db_url)
        self.order = SerialExecutor()
        self.lifecycle = Lifecycle()
        self.lifecycle.subscribe(self._on_change)
        self.bot = BotTurn(self)

    # -- ordering -------------------------------------------------------------

    def chain(self, key: str, work: Callable[[], Awaitable[None]]) -> None:
        self.order.chain(key, work)

    async def in_order(self, public_id: str, work: Callable[[Any, Conversation, dt.datetime], Awaitable[Any]]) -> Any:
        """Runs ``work(session, conversation, now)`` in the conversation's order; returns its result.

        Agent actions queue behind the customer's messages, so order holds in both directions.
        """
        async with session_scope(self.db_url) as session:
            conversation = await store.get_conversation(session, public_id)
        if conversation is None:
            raise ConversationNotFound(public_id)
        done: asyncio.Future = asyncio.get_running_loop().create_future()

        async def run() -> None:
            try:
                async with session_scope(self.db_url) as session:
                    fresh = await store.get_conversation(session, public_id)
                    assert fresh is not None  # found above, and conversations are never deleted
                    result = await work(session, fresh, self.clock())
                # Only once committed: the caller may act on the change straight away.
                done.set_result(result)
            except BaseException as exc:  # handed to the caller
                if not done.done():
                    done.set_exception(exc)

        self.chain(conversation_key(conversation.channel, conversation.session_key), run)
        return await done

    def busy(self, conversation: Conversation) -> bool:
        """True while work for this conversation is queued or running (its turn isn't finished)."""
        return self.order.busy(conversation_key(conversation.channel, conversation.session_key))

    async def drain(self) -> None:
        """Waits until all queued work is done and the consoles have heard of its changes."""
        while True:
            await self.order.drain()
            await self.lifecycle.settle()
            if not self.lifecycle.dispatching and not self.order.busy_anywhere:
                return

    # -- customer messages ----------------------------------------------------

    async def customer_message(
        self, channel: str, session_key: str, raw_text: Any, client_message_id: Optional[str] = None
    ) -> Accepted:
        """Stores a customer's message and schedules its routing; returns once it is stored."""
        text = clean_text(raw_text, self.settings.hub.max_message_chars)
        if client_message_id is not None and (not isinstance(client_message_id, str) or len(client_message_id) > 64):
            raise MessageRejected("message_id must be a string of at most 64 characters")
        key = conversation_key(channel, session_key)
        async with self.order.lock(key):
            now = self.clock()
            async with session_scope(self.db_url) as session:
                conversation = await store.latest_conversation(session, channel, session_key)
                if conversation is not None and conversation.status == "resolved":
                    if await self._take_rating(session, conversation, text, now):
                        return Accepted(conversation.public_id, 0, False)
                    conversation = None
                if conversation is None:
                    conversation = await store.create_conversation(session, channel, session_key, now)
                delivery = "received" if conversation.status == "bot" else "held_for_agent"
                message, created = await store.add_message(
                    session,
                    conversation,
                    "customer",
                    text,
                    delivery,
                    now,
                    client_message_id=client_message_id,
                    claimed_by=self.instance.id,
                )
                accepted = Accepted(conversation.public_id, message.id, not created)
            if created:
                hub_metrics.message("in", channel)
                self.chain(key, lambda: self._route(conversation.id, message.id))
        return accepted

    async def _take_rating(self, session, conversation: Conversation, text: str, now: dt.datetime) -> bool:
        """A 1-to-5 answer to the rating question of a resolved conversation."""
        match = _RATING.match(text)
        if conversation.csat_requested_at is None or match is None:
            return False
        if await store.csat_for(session, conversation.id) is not None:
            return False
        await store.add_message(session, conversation, "customer", text, "answered", now)
        await store.record_csat(session, conversation.id, int(match.group(1)), now)
        await self.say(session, conversation, "system", notices.THANKS_FOR_RATING, now)
        return True

    async def _route(self, conversation_id: int, message_id: int) -> None:
        async with session_scope(self.db_url) as session:
            conversation = await store.existing_conversation(session, conversation_id)
            message = await session.get(Message, message_id)
            if conversation.status in machine.WITH_PEOPLE:
                await self._hold_for_agents(session, conversation, message)
                return
            if await store.waiting_for_bot(session, conversation.id, before_message_id=message.id):
                # Rasa is unreachable for this conversation already: keep the order.
                await store.set_delivery(session, [message.id], "waiting_for_bot")
                return
            if message.delivery != "received":
                # Stored while people still had the conversation (a hand-back being committed): for the
                # bot now, so a turn that fails leaves it for the retry pass, not held for nobody.
                await store.set_delivery(session, [message.id], "received")
        await self.forward(conversation_id, message_id)

    async def _hold_for_agents(self, session, conversation: Conversation, message: Message) -> None:
        await store.set_delivery(session, [message.id], "held_for_agent")
        await self.delivery.to_agents(
            "message", {"conversation_id": conversation.public_id, "message": message_views.message_view(message)}
        )
        if not conversation.queue_notice_sent:
            await self.queue_notice(session, conversation)

    async def forward(self, conversation_id: int, message_id: int, retry: bool = False) -> None:
        await self.bot.forward(conversation_id, message_id, retry)

    # -- escalation -----------------------------------------------------------

    async def escalate(
        self,
        session,
        conversation: Conversation,
        reason: str,
        priority: Optional[int],
        summary: Dict[str, Any],
        now: dt.datetime,
    ) -> bool:
        """To the agents' queue, telling the customer where they stand."""
        if not await self.lifecycle.escalate(session, conversation, reason, priority, summary, now):
            return False
        hub_metrics.handoff(reason)
        await self.queue_notice(session, conversation)
        return True

    async def queue_notice(self, session, conversation: Conversation) -> None:
        """Tells the customer once where they stand and when a person will answer."""
        now = self.clock()
        handoff = await handoffs.open_handoff(session, conversation.id)
        position = await handoffs.queue_position(session, handoff) if handoff else 1
        text = notices.queue(
            position, now, self.settings, await agent_data.online_agent_count(session), conversation.channel
        )
        await store.update_conversation(session, conversation, now, queue_notice_sent=True)
        await self.say(session, conversation, "system", text, now)

    # -- output ---------------------------------------------------------------

    async def say(
        self,
        session,
        conversation: Conversation,
        sender: str,
        text: str,
        now: dt.datetime,
        payload: Optional[Dict[str, Any]] = None,
        agent: Optional[Agent] = None,
    ) -> Dict[str, Any]:
        """Stores an outgoing message, then relays it to the customer and, when people hold it, the agents.

        Returns the message as they saw it."""
        message, _ = await store.add_message(
            session, conversation, sender, text, "sent", now, payload=payload, agent_id=agent.id if agent else None
        )
        view = message_views.message_view(message, {agent.id: agent.name} if agent else None)
        hub_metrics.message("out", conversation.channel)
        await self.delivery.to_customer(conversation, view)
        if conversation.status in machine.WITH_PEOPLE:
            await self.delivery.to_agents("message", {"conversation_id": conversation.public_id, "message": view})
        return view

    async def _on_change(self, change: Change) -> None:
        """The consoles hear of every committed status change, whichever path made it."""
        async with session_scope(self.db_url) as session:
            conversation = await store.get_conversation_by_id(session, change.conversation_id)
            if conversation is None:
                return
            await self.delivery.to_agents(
                "conversation", {"conversation": await self.conversation_view(session, conversation)}
            )
            await self.broadcast_queue(session)

    async def broadcast_queue(self, session) -> None:
        await self.delivery.to_agents("queue", {"queue": await self.queue_view(session)})

    async def queue_view(self, session) -> List[Dict[str, Any]]:
        now = self.clock()
        return [
            await views.queue_item(session, conversation, handoff, now)
            for conversation, handoff in await handoffs.queue(session)
        ]

    async def conversation_view(self, session, conversation: Conversation) -> Dict[str, Any]:
        return await views.conversation_view(session, conversation)
