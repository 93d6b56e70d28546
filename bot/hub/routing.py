"""Routing: every customer message is stored first, then routed by status.

- ``bot``: forwarded to Rasa with metadata; the replies are stored and relayed.
  A ``handoff`` payload from the actions moves the conversation to ``pending``.
- ``pending`` / ``assigned``: the bot stays silent; agents see the message live.
  The customer is told once that a person is coming and their place in the queue.
- Rasa unreachable: the message is kept (``waiting_for_bot``), the customer is
  told once, a retry loop answers it when Rasa is back, and after
  ``rasa_outage_handoff_seconds`` a person takes over instead.

Work for one conversation runs strictly in arrival order: each piece is chained
after the previous one (:meth:`Router.chain`). Agents act through
:mod:`bot.hub.agent_desk`; :mod:`bot.hub.outage` retries kept messages.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Dict, List, Optional, Protocol

from bot.config import Settings
from bot.hub import agent_store as agent_data
from bot.hub import conversation_store as store
from bot.db import session_scope
from bot.hub.models import Agent, Conversation, Message
from bot.escalation import REASONS
from bot.hub import metrics as hub_metrics
from bot.hub import notices
from bot.hub import status as machine
from bot.hub import views
from bot.hub.rasa_client import RasaClient, RasaUnavailable
from bot.hub.replies import read_replies

logger = logging.getLogger(__name__)

_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_RATING = re.compile(r"^\s*/?(?:csat_rating\D*)?([1-5])\D*$")


class MessageRejected(ValueError):
    """A message the hub refuses (empty, too long); nothing was stored."""


class ConversationNotFound(LookupError):
    pass


class Conflict(Exception):
    """The action does not fit the conversation's current state (someone else acted first)."""


class Delivery(Protocol):
    """Where the router's output goes: the customer's channel and the agents' consoles."""

    async def to_customer(self, conversation: Conversation, message: Dict[str, Any]) -> None: ...

    async def typing(self, conversation: Conversation, active: bool, who: str) -> None: ...

    async def to_agents(self, event: str, data: Dict[str, Any]) -> None: ...


@dataclass
class Accepted:
    conversation_id: str
    message_id: int
    duplicate: bool


def conversation_key(channel: str, session_key: str) -> str:
    """What orders work: one chain per widget session or email thread."""
    return f"{channel}:{session_key}"


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def clean_text(raw: Any, limit: int) -> str:
    """Validates a message's text: plain string, not empty, not over the limit."""
    if not isinstance(raw, str):
        raise MessageRejected("a message must be text")
    text = _CONTROL_CHARS.sub("", raw).strip()
    if not text:
        raise MessageRejected("the message is empty")
    if len(text) > limit:
        raise MessageRejected(f"the message is too long ({len(text)} characters; the limit is {limit})")
    return text


class Router:
    def __init__(self, settings: Settings, rasa: RasaClient, delivery: Delivery,
                 db_url: Optional[str] = None, clock: Callable[[], dt.datetime] = utcnow) -> None:
        self.settings = settings
        self.rasa = rasa
        self.delivery = delivery
        self.db_url = db_url or settings.database_url
        self.clock = clock
        self._locks: Dict[str, asyncio.Lock] = {}
        self._tails: Dict[str, asyncio.Task] = {}

    # -- ordering -------------------------------------------------------------

    def _lock(self, key: str) -> asyncio.Lock:
        return self._locks.setdefault(key, asyncio.Lock())

    def chain(self, key: str, work: Callable[[], Awaitable[None]]) -> None:
        """Runs ``work`` after everything already queued for this conversation."""
        previous = self._tails.get(key)

        async def run() -> None:
            if previous is not None:
                await asyncio.gather(previous, return_exceptions=True)
            try:
                await work()
            except Exception:  # one failed message must not stop the ones after it
                logger.exception("routing failed for conversation %s", key)
                hub_metrics.error("routing")

        task = asyncio.ensure_future(run())
        self._tails[key] = task
        task.add_done_callback(lambda t: self._tails.pop(key, None) if self._tails.get(key) is t else None)

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
        return conversation_key(conversation.channel, conversation.session_key) in self._tails

    async def drain(self) -> None:
        """Waits until every queued piece of work is done (tests, shutdown)."""
        while self._tails:
            await asyncio.gather(*list(self._tails.values()), return_exceptions=True)

    # -- customer messages ----------------------------------------------------

    async def customer_message(self, channel: str, session_key: str, raw_text: Any,
                               client_message_id: Optional[str] = None) -> Accepted:
        """Stores a customer's message and schedules its routing; returns once it is stored."""
        text = clean_text(raw_text, self.settings.max_message_chars)
        if client_message_id is not None and (not isinstance(client_message_id, str) or len(client_message_id) > 64):
            raise MessageRejected("message_id must be a string of at most 64 characters")
        key = conversation_key(channel, session_key)
        async with self._lock(key):
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
                    session, conversation, "customer", text, delivery, now, client_message_id=client_message_id)
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
            conversation = await store.get_conversation_by_id(session, conversation_id)
            message = await session.get(Message, message_id)
            if conversation.status in machine.WITH_PEOPLE:
                await self._hold_for_agents(session, conversation, message)
                return
            if await self._has_earlier_waiting(session, conversation.id, message.id):
                # Rasa is unreachable for this conversation already: keep the order.
                await store.set_delivery(session, [message.id], "waiting_for_bot")
                return
        await self.forward(conversation_id, message_id)

    async def _has_earlier_waiting(self, session, conversation_id: int, message_id: int) -> bool:
        return bool(await store.waiting_for_bot(session, conversation_id, before_message_id=message_id))

    async def _hold_for_agents(self, session, conversation: Conversation, message: Message) -> None:
        await store.set_delivery(session, [message.id], "held_for_agent")
        await self.delivery.to_agents("message", {
            "conversation_id": conversation.public_id, "message": views.message_view(message)})
        if not conversation.queue_notice_sent:
            await self._queue_notice(session, conversation)

    async def forward(self, conversation_id: int, message_id: int, retry: bool = False) -> None:
        """Sends one stored customer message to Rasa and relays what comes back.

        A retry first asks Rasa's tracker whether the earlier attempt got through (a
        timeout is not proof that Rasa never saw it), so no message is processed twice.
        """
        async with session_scope(self.db_url) as session:
            conversation = await store.get_conversation_by_id(session, conversation_id)
            message = await session.get(Message, message_id)
            sender_id, text = conversation.public_id, message.text
            metadata = {"channel": conversation.channel, "conversation_id": conversation.public_id,
                        "customer_id": conversation.customer_id, "hub_message_id": message_id}
            needs_resume = conversation.rasa_needs_resume
        await self.delivery.typing(conversation, True, "bot")
        try:
            if needs_resume:
                await self.rasa.resume(sender_id)
            replies = await self.rasa.replies_to(sender_id, message_id) if retry else None
            if replies is None:
                with hub_metrics.RASA_SECONDS.time():
                    replies = await self.rasa.send(sender_id, text, metadata)
        except RasaUnavailable as exc:
            logger.warning("keeping message %s for later: %s", message_id, exc)
            hub_metrics.error("rasa_unavailable")
            await self.delivery.typing(conversation, False, "bot")
            await self._keep_for_later(conversation_id, message_id)
            return
        await self.delivery.typing(conversation, False, "bot")
        turn = read_replies(replies)
        async with session_scope(self.db_url) as session:
            conversation = await store.get_conversation_by_id(session, conversation_id)
            now = self.clock()
            await store.set_delivery(session, [message_id], "answered")
            changes: Dict[str, Any] = {"outage_notice_sent": False}
            if needs_resume:
                changes["rasa_needs_resume"] = False
            if turn.verified and isinstance(turn.verified.get("customer_id"), int):
                changes["customer_id"] = turn.verified["customer_id"]
                changes["customer_known_by"] = "verification"
            await store.update_conversation(session, conversation, now, **changes)
            for reply in turn.messages:
                await self.say(session, conversation, "bot", reply["text"], now, payload=reply["payload"])
            if not turn.messages and turn.handoff is None:
                # Rasa took the message but said nothing: usually the action server is down.
                await self.say(session, conversation, "system", notices.NO_ANSWER, now)
            if turn.handoff is not None:
                reason = str(turn.handoff.get("reason") or "asked_for_person")
                priority = turn.handoff.get("priority")
                if not isinstance(priority, int):
                    priority = REASONS.get(reason, 2)
                await self.escalate(session, conversation, reason, priority, turn.handoff, now)

    async def _keep_for_later(self, conversation_id: int, message_id: int) -> None:
        async with session_scope(self.db_url) as session:
            conversation = await store.get_conversation_by_id(session, conversation_id)
            await store.set_delivery(session, [message_id], "waiting_for_bot")
            if not conversation.outage_notice_sent:
                now = self.clock()
                await store.update_conversation(session, conversation, now, outage_notice_sent=True)
                await self.say(session, conversation, "system", notices.outage(self.settings), now)

    # -- escalation -----------------------------------------------------------

    async def escalate(self, session, conversation: Conversation, reason: str, priority: int,
                       summary: Dict[str, Any], now: dt.datetime) -> bool:
        # Rasa's tracker is (or will be) paused while people hold it: resume before the bot hears it again.
        if not await store.change_status(session, conversation, machine.sources("escalate"),
                                         machine.target("escalate"), now,
                                         queue_notice_sent=False, rasa_needs_resume=True):
            return False
        await store.create_handoff(session, conversation, reason, priority, summary, now)
        hub_metrics.handoff(reason)
        logger.info("conversation %s handed to people: %s", conversation.public_id, reason)
        await self._queue_notice(session, conversation)
        await self.after_change(session, conversation)
        return True

    async def _queue_notice(self, session, conversation: Conversation) -> None:
        """Tells the customer once where they stand and when a person will answer."""
        now = self.clock()
        handoff = await store.open_handoff(session, conversation.id)
        position = await store.queue_position(session, handoff) if handoff else 1
        text = notices.queue(position, now, self.settings, await agent_data.online_agent_count(session),
                             conversation.channel)
        await store.update_conversation(session, conversation, now, queue_notice_sent=True)
        await self.say(session, conversation, "system", text, now)

    # -- output ---------------------------------------------------------------

    async def say(self, session, conversation: Conversation, sender: str, text: str, now: dt.datetime,
                  payload: Optional[Dict[str, Any]] = None, agent: Optional[Agent] = None) -> Dict[str, Any]:
        """Stores an outgoing message, then relays it to the customer and, when people hold it, the agents.

        Returns the message as they saw it."""
        message, _ = await store.add_message(session, conversation, sender, text, "sent", now, payload=payload,
                                             agent_id=agent.id if agent else None)
        view = views.message_view(message, {agent.id: agent.name} if agent else None)
        hub_metrics.message("out", conversation.channel)
        await self.delivery.to_customer(conversation, view)
        if conversation.status in machine.WITH_PEOPLE:
            await self.delivery.to_agents("message", {"conversation_id": conversation.public_id, "message": view})
        return view

    async def after_change(self, session, conversation: Conversation) -> Dict[str, Any]:
        """Tells the consoles about a status change; returns the conversation's view."""
        view = await self.conversation_view(session, conversation)
        await self.delivery.to_agents("conversation", {"conversation": view})
        await self.broadcast_queue(session)
        return view

    async def broadcast_queue(self, session) -> None:
        await self.delivery.to_agents("queue", {"queue": await self.queue_view(session)})

    async def queue_view(self, session) -> List[Dict[str, Any]]:
        now = self.clock()
        return [await views.queue_item(session, conversation, handoff, now) for conversation, handoff in await store.queue(session)]

    async def conversation_view(self, session, conversation: Conversation) -> Dict[str, Any]:
        return await views.conversation_view(session, conversation)
