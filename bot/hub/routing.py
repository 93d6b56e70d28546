"""Routing: every customer message is stored first, then routed by status.

- ``bot``: forwarded to Rasa with metadata; the replies are stored and relayed.
  A ``handoff`` payload from the actions moves the conversation to ``pending``.
- ``pending`` / ``assigned``: the bot stays silent; agents see the message live.
  The customer is told once that a person is coming and their place in the queue.
- Rasa unreachable: the message is kept (``waiting_for_bot``), the customer is
  told once, a retry loop answers it when Rasa is back, and after
  ``rasa_outage_handoff_seconds`` a person takes over instead.

Work for one conversation runs strictly in arrival order: each piece is chained
after the previous one (:meth:`Router._chain`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import re
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Dict, List, Optional, Protocol

from sqlalchemy import select

from bot import business_hours
from bot.config import Settings
from bot.db import agents as agent_data
from bot.db import conversations as store
from bot.db import session_scope
from bot.db.hub_models import Agent, Conversation, Message
from bot.escalation import REASONS
from bot.hub import status as machine
from bot.hub import views
from bot.hub.rasa_client import RasaClient, RasaUnavailable
from bot.hub.replies import read_replies

logger = logging.getLogger(__name__)

# The hub's own reason when Rasa stays unreachable, beside bot.escalation's reasons.
BOT_UNAVAILABLE = "bot_unavailable"
BOT_UNAVAILABLE_PRIORITY = 2
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
        self._retry_task: Optional[asyncio.Task] = None

    # -- ordering -------------------------------------------------------------

    def _lock(self, key: str) -> asyncio.Lock:
        return self._locks.setdefault(key, asyncio.Lock())

    def _chain(self, key: str, work: Callable[[], Awaitable[None]]) -> None:
        """Runs ``work`` after everything already queued for this conversation."""
        previous = self._tails.get(key)

        async def run() -> None:
            if previous is not None:
                await asyncio.gather(previous, return_exceptions=True)
            try:
                await work()
            except Exception:  # one failed message must not stop the ones after it
                logger.exception("routing failed for conversation %s", key)

        task = asyncio.ensure_future(run())
        self._tails[key] = task
        task.add_done_callback(lambda t: self._tails.pop(key, None) if self._tails.get(key) is t else None)

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
        key = f"{channel}:{session_key}"
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
                self._chain(key, lambda: self._route(conversation.id, message.id))
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
        await self._say(session, conversation, "system", "Thank you for your rating. Have a good day!", now)
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
        await self._forward(conversation_id, message_id)

    async def _has_earlier_waiting(self, session, conversation_id: int, message_id: int) -> bool:
        waiting = await store.waiting_for_bot(session)
        return any(m.conversation_id == conversation_id and m.id < message_id for m in waiting)

    async def _hold_for_agents(self, session, conversation: Conversation, message: Message) -> None:
        await store.set_delivery(session, [message.id], "held_for_agent")
        await self.delivery.to_agents("message", {
            "conversation_id": conversation.public_id, "message": views.message_view(message)})
        if not conversation.queue_notice_sent:
            await self._queue_notice(session, conversation)

    async def _forward(self, conversation_id: int, message_id: int) -> None:
        """Sends one stored customer message to Rasa and relays what comes back."""
        async with session_scope(self.db_url) as session:
            conversation = await store.get_conversation_by_id(session, conversation_id)
            message = await session.get(Message, message_id)
            sender_id, text = conversation.public_id, message.text
            metadata = {"channel": conversation.channel, "conversation_id": conversation.public_id,
                        "customer_id": conversation.customer_id}
            needs_resume = conversation.rasa_needs_resume
        await self.delivery.typing(conversation, True, "bot")
        try:
            if needs_resume:
                await self.rasa.resume(sender_id)
            replies = await self.rasa.send(sender_id, text, metadata)
        except RasaUnavailable as exc:
            logger.warning("keeping message %s for later: %s", message_id, exc)
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
            await store.update_conversation(session, conversation, now, **changes)
            for reply in turn.messages:
                await self._say(session, conversation, "bot", reply["text"], now, payload=reply["payload"])
            if not turn.messages and turn.handoff is None:
                # Rasa took the message but said nothing: usually the action server is down.
                await self._say(session, conversation, "system",
                                "Sorry, something went wrong on our side and I couldn't answer that. "
                                "Please try again in a moment, or type \"talk to a person\" to reach our team.", now)
            if turn.handoff is not None:
                reason = str(turn.handoff.get("reason") or "asked_for_person")
                priority = turn.handoff.get("priority")
                if not isinstance(priority, int):
                    priority = REASONS.get(reason, 2)
                await self._escalate(session, conversation, reason, priority, turn.handoff, now, rasa_paused=True)

    async def _keep_for_later(self, conversation_id: int, message_id: int) -> None:
        async with session_scope(self.db_url) as session:
            conversation = await store.get_conversation_by_id(session, conversation_id)
            await store.set_delivery(session, [message_id], "waiting_for_bot")
            if not conversation.outage_notice_sent:
                now = self.clock()
                await store.update_conversation(session, conversation, now, outage_notice_sent=True)
                minutes = max(1, round(self.settings.rasa_outage_handoff_seconds / 60))
                await self._say(session, conversation, "system",
                                "Sorry, I'm having trouble answering right now. Your message is saved and I'll "
                                f"reply as soon as I can. If that takes more than {minutes} "
                                f"minute{'s' if minutes != 1 else ''}, a person from our team will pick it up.", now)

    # -- escalation -----------------------------------------------------------

    async def _escalate(self, session, conversation: Conversation, reason: str, priority: int,
                        summary: Dict[str, Any], now: dt.datetime, rasa_paused: bool) -> bool:
        if not await store.change_status(session, conversation, machine.sources("escalate"), "pending", now,
                                         queue_notice_sent=False, rasa_needs_resume=True):
            return False
        await store.create_handoff(session, conversation, reason, priority, summary, now)
        logger.info("conversation %s handed to people: %s", conversation.public_id, reason)
        await self._queue_notice(session, conversation)
        await self.delivery.to_agents("conversation", {"conversation": await self.conversation_view(session, conversation)})
        await self._broadcast_queue(session)
        return True

    async def _queue_notice(self, session, conversation: Conversation) -> None:
        """Tells the customer once where they stand and when a person will answer."""
        now = self.clock()
        handoff = await store.open_handoff(session, conversation.id)
        position = await store.queue_position(session, handoff) if handoff else 1
        parts = [f"You're number {position} in the queue for a person from our team."
                 if position > 1 else "You're next in the queue for a person from our team."]
        if not business_hours.is_open(now, self.settings):
            opening = business_hours.next_opening(now, self.settings)
            parts.append("We're closed right now (our hours are "
                         f"{business_hours.describe_hours(self.settings)}). Someone will answer "
                         f"{business_hours.describe_opening(opening, now, self.settings)}; "
                         "you can leave this page and come back, your conversation is saved.")
        elif await agent_data.online_agent_count(session) == 0:
            parts.append("Everyone on our team is busy or away at the moment. Someone will answer as soon as "
                         "they're back, usually within 30 minutes. Your conversation is saved, so you can "
                         "leave this page and come back.")
        else:
            parts.append("Someone will be with you shortly. Anything you write now goes straight to them.")
        await store.update_conversation(session, conversation, now, queue_notice_sent=True)
        await self._say(session, conversation, "system", " ".join(parts), now)

    # -- retries while Rasa is down -------------------------------------------

    async def retry_waiting(self) -> None:
        """One pass over kept messages: answer them if Rasa is back, or hand them to a person."""
        async with session_scope(self.db_url) as session:
            waiting = await store.waiting_for_bot(session)
            by_conversation: Dict[int, List[Message]] = {}
            for message in waiting:
                by_conversation.setdefault(message.conversation_id, []).append(message)
            keys = {}
            for conversation_id in by_conversation:
                conversation = await store.get_conversation_by_id(session, conversation_id)
                keys[conversation_id] = f"{conversation.channel}:{conversation.session_key}"
        if not by_conversation:
            return
        now = self.clock()
        limit = dt.timedelta(seconds=self.settings.rasa_outage_handoff_seconds)
        healthy: Optional[bool] = None
        for conversation_id, messages in by_conversation.items():
            oldest = messages[0].created_at
            if oldest.tzinfo is None:
                oldest = oldest.replace(tzinfo=dt.timezone.utc)
            if now - oldest >= limit:
                self._chain(keys[conversation_id], lambda cid=conversation_id: self._outage_handoff(cid))
                continue
            if healthy is None:
                healthy = await self.rasa.healthy()
            if healthy:
                for message in messages:
                    self._chain(keys[conversation_id], lambda cid=conversation_id, mid=message.id: self._forward_if_waiting(cid, mid))

    async def _forward_if_waiting(self, conversation_id: int, message_id: int) -> None:
        async with session_scope(self.db_url) as session:
            message = await session.get(Message, message_id)
            if message is None or message.delivery != "waiting_for_bot":
                return
        await self._forward(conversation_id, message_id)

    async def _outage_handoff(self, conversation_id: int) -> None:
        async with session_scope(self.db_url) as session:
            conversation = await store.get_conversation_by_id(session, conversation_id)
            waiting = [m for m in await store.waiting_for_bot(session) if m.conversation_id == conversation_id]
            if not waiting:
                return
            await store.set_delivery(session, [m.id for m in waiting], "held_for_agent")
            summary = {"reason": BOT_UNAVAILABLE, "detail": "the assistant was unreachable",
                       "transcript": [{"from": m.sender, "text": m.text} for m in await store.messages_for(session, conversation_id, 30)]}
            await self._escalate(session, conversation, BOT_UNAVAILABLE, BOT_UNAVAILABLE_PRIORITY, summary,
                                 self.clock(), rasa_paused=False)

    async def recover(self) -> None:
        """After a restart: messages stored but never routed are kept for the retry loop."""
        async with session_scope(self.db_url) as session:
            result = await session.execute(
                select(Message.id, Conversation.status).join(Conversation, Conversation.id == Message.conversation_id)
                .where(Message.delivery == "received", Message.sender == "customer"))
            rows = result.all()
            to_bot = [mid for mid, status in rows if status == "bot"]
            to_people = [mid for mid, status in rows if status != "bot"]
            await store.set_delivery(session, to_bot, "waiting_for_bot")
            await store.set_delivery(session, to_people, "held_for_agent")
        if rows:
            logger.info("recovered %d messages that were stored but not yet answered", len(rows))

    async def run_retries(self) -> None:
        while True:
            try:
                await self.retry_waiting()
            except Exception:
                logger.exception("retry pass failed")
            await asyncio.sleep(self.settings.rasa_retry_seconds)

    def start(self) -> None:
        if self._retry_task is None:
            self._retry_task = asyncio.ensure_future(self.run_retries())

    async def stop(self) -> None:
        if self._retry_task is not None:
            self._retry_task.cancel()
            await asyncio.gather(self._retry_task, return_exceptions=True)
            self._retry_task = None
        await self.drain()

    # -- agents ---------------------------------------------------------------

    async def _agent_action(self, public_id: str, work: Callable[[Any, Conversation, dt.datetime], Awaitable[Any]]) -> Any:
        async with session_scope(self.db_url) as session:
            conversation = await store.get_conversation(session, public_id)
        if conversation is None:
            raise ConversationNotFound(public_id)
        key = f"{conversation.channel}:{conversation.session_key}"
        done: asyncio.Future = asyncio.get_running_loop().create_future()

        async def run() -> None:
            try:
                async with session_scope(self.db_url) as session:
                    fresh = await store.get_conversation(session, public_id)
                    result = await work(session, fresh, self.clock())
                done.set_result(result)
            except BaseException as exc:  # handed to the caller
                done.set_exception(exc)

        # Agent actions queue behind the customer's messages, so order holds in both directions.
        self._chain(key, run)
        return await done

    async def take(self, agent: Agent, public_id: str) -> Dict[str, Any]:
        async def work(session, conversation: Conversation, now: dt.datetime):
            if not await store.change_status(session, conversation, machine.sources("take"), "assigned", now,
                                             assigned_agent_id=agent.id):
                raise Conflict(await self._conflict_text(session, conversation, "take"))
            await store.mark_taken(session, conversation.id, agent.id, now)
            await self._say(session, conversation, "system",
                            f"{agent.name} from our team has joined the chat.", now)
            return await self._after_change(session, conversation)
        return await self._agent_action(public_id, work)

    async def agent_message(self, agent: Agent, public_id: str, raw_text: Any) -> Dict[str, Any]:
        text = clean_text(raw_text, self.settings.max_message_chars)

        async def work(session, conversation: Conversation, now: dt.datetime):
            self._require_assignee(conversation, agent)
            message = await self._say(session, conversation, "agent", text, now, agent=agent)
            return views.message_view(message, {agent.id: agent.name})
        return await self._agent_action(public_id, work)

    async def agent_typing(self, agent: Agent, public_id: str, active: bool) -> None:
        async with session_scope(self.db_url) as session:
            conversation = await store.get_conversation(session, public_id)
        if conversation is not None and conversation.assigned_agent_id == agent.id:
            await self.delivery.typing(conversation, bool(active), "agent")

    async def hand_back(self, agent: Agent, public_id: str) -> Dict[str, Any]:
        async def work(session, conversation: Conversation, now: dt.datetime):
            if conversation.status == "assigned":
                self._require_assignee(conversation, agent)
            if not await store.change_status(session, conversation, machine.sources("hand_back"), "bot", now,
                                             assigned_agent_id=None, queue_notice_sent=False):
                raise Conflict(await self._conflict_text(session, conversation, "hand_back"))
            await store.end_handoff(session, conversation.id, "handed_back", now)
            try:
                await self.rasa.resume(conversation.public_id)
                await store.update_conversation(session, conversation, now, rasa_needs_resume=False)
            except RasaUnavailable as exc:
                # Kept in rasa_needs_resume: the next forward resumes first.
                logger.warning("resume of %s deferred: %s", conversation.public_id, exc)
            await self._say(session, conversation, "system",
                            "You're back with our virtual assistant. Just ask if you need anything else.", now)
            return await self._after_change(session, conversation)
        return await self._agent_action(public_id, work)

    async def resolve(self, agent: Agent, public_id: str) -> Dict[str, Any]:
        async def work(session, conversation: Conversation, now: dt.datetime):
            if conversation.status == "assigned":
                self._require_assignee(conversation, agent)
            if not await store.change_status(session, conversation, machine.sources("resolve"), "resolved", now,
                                             resolved_at=now, csat_requested_at=now):
                raise Conflict(await self._conflict_text(session, conversation, "resolve"))
            await store.end_handoff(session, conversation.id, "resolved", now)
            await self._say(session, conversation, "system",
                            "This conversation is now closed. How would you rate the help you got, "
                            "from 1 (poor) to 5 (excellent)?", now,
                            payload={"quick_replies": [{"content_type": "text", "title": str(n), "payload": str(n)}
                                                       for n in range(1, 6)]})
            return await self._after_change(session, conversation)
        return await self._agent_action(public_id, work)

    def _require_assignee(self, conversation: Conversation, agent: Agent) -> None:
        if conversation.status != "assigned" or conversation.assigned_agent_id != agent.id:
            raise Conflict("this conversation is not assigned to you; take it first")

    async def _conflict_text(self, session, conversation: Conversation, action: str) -> str:
        if conversation.status == "assigned" and conversation.assigned_agent_id is not None:
            holder = await agent_data.get_agent(session, conversation.assigned_agent_id)
            return f"already taken by {holder.name if holder else 'another agent'}"
        return str(machine.InvalidTransition(conversation.status, action))

    async def _after_change(self, session, conversation: Conversation) -> Dict[str, Any]:
        view = await self.conversation_view(session, conversation)
        await self.delivery.to_agents("conversation", {"conversation": view})
        await self._broadcast_queue(session)
        return view

    # -- output ---------------------------------------------------------------

    async def _say(self, session, conversation: Conversation, sender: str, text: str, now: dt.datetime,
                   payload: Optional[Dict[str, Any]] = None, agent: Optional[Agent] = None) -> Message:
        """Stores an outgoing message, then relays it to the customer and, when people hold it, the agents."""
        message, _ = await store.add_message(session, conversation, sender, text, "sent", now, payload=payload,
                                             agent_id=agent.id if agent else None)
        view = views.message_view(message, {agent.id: agent.name} if agent else None)
        await self.delivery.to_customer(conversation, view)
        if conversation.status in machine.WITH_PEOPLE:
            await self.delivery.to_agents("message", {"conversation_id": conversation.public_id, "message": view})
        return message

    async def _broadcast_queue(self, session) -> None:
        await self.delivery.to_agents("queue", {"queue": await self.queue_view(session)})

    async def queue_view(self, session) -> List[Dict[str, Any]]:
        now = self.clock()
        return [await views.queue_item(session, conversation, handoff, now) for conversation, handoff in await store.queue(session)]

    async def conversation_view(self, session, conversation: Conversation) -> Dict[str, Any]:
        return await views.conversation_view(session, conversation)
