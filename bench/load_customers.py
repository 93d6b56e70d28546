"""bench/load.py's simulated customers: over REST against the plain Rasa, over socket.io against the
hub (Rasa's socketio protocol), talking with an agent when the conversation is handed to people,
reconnecting and resending like the widget when a hub goes away."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import re
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Deque, Dict, List, Optional, Sequence, Tuple

import aiohttp
import socketio

from bench import load_scripts
from bench.load_report import LevelStats, TurnResult
from bench.load_stack import now
from bot.hub import notices


class Abandon(Exception):
    """The customer gives up on this conversation (no answer in time, refused, disconnected)."""


async def think(args: argparse.Namespace, rng: random.Random) -> None:
    if args.think > 0:
        await asyncio.sleep(rng.uniform(0.5, 1.5) * args.think)


async def rest_conversation(url: str, http: aiohttp.ClientSession, conv: load_scripts.Conversation,
                            stats: LevelStats, args: argparse.Namespace, rng: random.Random, end: float) -> None:
    sender = f"load-{uuid.uuid4().hex[:12]}"
    for turn in conv.turns:
        if now() >= end:
            return
        result = TurnResult(sent=now())
        stats.turns.append(result)
        try:
            async with http.post(f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": turn.text},
                                 timeout=aiohttp.ClientTimeout(total=args.reply_timeout)) as response:
                body = await response.read()
                if response.status != 200:
                    result.error = f"HTTP {response.status}"
                    stats.error(result.error)
                    raise Abandon
                replies = json.loads(body or b"[]")
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
            result.error = "timeout" if isinstance(exc, asyncio.TimeoutError) else type(exc).__name__
            stats.error(result.error)
            raise Abandon from exc
        result.first = result.last = now()
        if not replies:
            stats.empty += 1
        await think(args, rng)


def _queue_notice(text: str) -> bool:
    return text.startswith("You're next in the queue") or text.startswith("You're number ")


JOINED = re.compile(r" from our team has joined the chat\.$")
NO_ANSWER = notices.NO_ANSWER
OUTAGE_START = "Sorry, I'm having trouble answering right now."


@dataclass
class HubTurn:
    result: TurnResult
    replied: asyncio.Event = field(default_factory=asyncio.Event)
    held: bool = False


ACK_TIMEOUT = 10.0  # what the widget gives an acknowledgement before it sends the message again
RESEND_PAUSE = 2.0  # the widget waits 4 s; shorter here, so a retried message isn't counted late for nothing


async def _close_client(client: socketio.AsyncClient) -> None:
    with contextlib.suppress(Exception):
        await asyncio.wait_for(client.disconnect(), 5)


class HubCustomer:
    """One widget conversation: a socket.io client speaking Rasa's socketio protocol.

    Which turn a reply belongs to: the hub emits `typing` (from the bot, active) when it starts
    sending a stored message to Rasa, then the replies; work for one conversation runs in order.
    So the n-th such `typing` starts the n-th message sent to the bot, and replies belong to the
    turn whose `typing` came last, even when the customer already sent the next message. A `typing`
    after which nothing was said before the next one was an attempt that failed (a kept message
    retried while Rasa still fails: no second notice), so the next `typing` is for the same turn.

    Like the widget (bot/hub/static/widget.js) when its hub goes away: it connects to a hub again
    (the next one in `urls`, as a load balancer would send it) with the same session id, sends
    the message whose acknowledgement never came again with the same client message id (the hub
    stores it once), and asks for the history, whose messages it had not heard count as heard
    then (a reply is matched to its turn by the customer messages before it).
    """

    def __init__(self, urls: Sequence[str], stats: LevelStats, home: int = 0) -> None:
        self.urls, self.stats = list(urls), stats
        self.hub = home % len(self.urls)  # the hub this customer is on (index in urls)
        self.client: Optional[socketio.AsyncClient] = None
        self.dropped = asyncio.Event()  # the connection went away
        self.session_id: Optional[str] = None
        self.waiting: Deque[HubTurn] = deque()  # sent to the bot, its typing not seen yet
        self.current: Optional[HubTurn] = None
        self._heard_since_typing = True  # something was said for the current turn since its typing
        self.sent: List[Optional[HubTurn]] = []  # per stored customer message, in order (None: to a person)
        self.seen: set = set()  # hub message ids heard
        self._history: Optional[asyncio.Future] = None
        self.queued = asyncio.Event()  # the queue notice: people have the conversation
        self.queued_at = 0.0
        self.agent_said: List[Tuple[float, str]] = []
        self.agent_heard = 0  # the agent's messages of handoffs already over
        self.heard: List[str] = []  # what this customer heard and said, for problems.log
        self.agent_event = asyncio.Event()
        self.handed_back = asyncio.Event()
        self.waiting_turn: Optional[HubTurn] = None

    # -- connection ---------------------------------------------------------------------------

    async def _connect(self, index: int, timeout: float) -> None:
        client = socketio.AsyncClient(reconnection=False)
        confirmed = asyncio.get_running_loop().create_future()
        client.on("session_confirm", lambda sid: confirmed.done() or confirmed.set_result(sid))
        client.on("typing", self._typing)
        client.on("bot_uttered", self._uttered)
        client.on("history", self._history_in)
        client.on("disconnect", lambda *_: self._drop(client))
        try:
            await asyncio.wait_for(client.connect(self.urls[index], socketio_path="socket.io",
                                                  transports=["websocket"]), timeout)
            await client.emit("session_request", {"session_id": self.session_id})
            self.session_id = await asyncio.wait_for(confirmed, timeout)
        except BaseException:
            await _close_client(client)
            raise
        self.client, self.hub = client, index
        self.dropped.clear()

    async def _connect_any(self, first: int, deadline: float) -> bool:
        """Each hub in turn from `first`, round and round until one confirms the session or the deadline."""
        while True:
            for step in range(len(self.urls)):
                remaining = deadline - now()
                if remaining <= 0:
                    return False
                try:
                    await self._connect((first + step) % len(self.urls), min(5.0, remaining))
                    return True
                except (socketio.exceptions.SocketIOError, asyncio.TimeoutError, OSError):
                    continue
            await asyncio.sleep(min(0.5, max(0.0, deadline - now())))

    async def open(self, timeout: float) -> None:
        if not await self._connect_any(self.hub, now() + timeout):
            self.stats.error("connect: no hub answered")
            raise Abandon

    def _drop(self, client: socketio.AsyncClient) -> None:
        if client is not self.client:
            return
        self.dropped.set()
        # Its typing came but not its answer: the hub that picks the message up sends typing again.
        if self.current is not None and not self.current.replied.is_set():
            self.waiting.appendleft(self.current)
            self.current = None

    async def reconnect(self, deadline: float) -> None:
        """To the next hub (then any) with the same session, then what was said meanwhile from the history."""
        old, self.client = self.client, None
        if old is not None:
            await _close_client(old)
        self.stats.reconnects += 1
        if not await self._connect_any(self.hub + 1, deadline):
            self.stats.error("reconnect failed")
            raise Abandon
        assert self.client is not None
        self._history = asyncio.get_running_loop().create_future()
        try:
            await self.client.emit("history_request", {})
            messages = await asyncio.wait_for(self._history, max(0.1, min(5.0, deadline - now())))
        except (socketio.exceptions.SocketIOError, asyncio.TimeoutError):
            self.stats.error("no history after reconnecting")
            return
        self._catch_up(messages)

    def _history_in(self, data: Any) -> None:
        messages = (data or {}).get("messages") or []
        if self._history is not None and not self._history.done():
            self._history.set_result(messages)
        else:  # sent by the hub unasked (it lost Redis for a while): the widget shows it the same way
            self.stats.histories_pushed += 1
            self._catch_up(messages)

    def _catch_up(self, messages: List[Dict[str, Any]]) -> None:
        """What the hubs said while this customer was away, as if heard now."""
        live = self.current  # the turn being answered live: replies still to come are its
        live_index = next((i for i, t in enumerate(self.sent) if t is not None and t is live), -1)
        index = latest = -1
        for message in messages:
            if message.get("from") == "customer":
                index += 1
                if index >= len(self.sent):
                    break  # not acknowledged yet: what follows it comes live, or in a later history
                continue
            if message.get("id") in self.seen:
                continue
            if 0 <= index < len(self.sent):
                turn = self.sent[index]
                if turn is not None and turn in self.waiting:
                    self.waiting.remove(turn)
                self.current = turn
                latest = index
            self.stats.caught_up += 1
            self.heard.append("(from a history:)")
            self._uttered({"text": message.get("text"),
                           "metadata": {"from": message.get("from"), "message_id": message.get("id")}})
        if live is not None and live_index >= latest:
            self.current = live  # an older message heard late does not make an older turn current again
        self._answered_in(messages)

    def _answered_in(self, messages: List[Dict[str, Any]]) -> None:
        """Turns the history shows answered though no reply was matched to them live: answered now.

        A kept message's answer is stored after the customer's later messages, and the hub answers a
        conversation's messages in order, so each bot message in the history answers the earliest turn
        before it still without an answer (a turn's second reply may so count for the next turn).
        """
        index = -1
        for message in messages:
            if message.get("from") == "customer":
                index += 1
                if index >= len(self.sent):
                    return
                continue
            if message.get("from") != "bot":
                continue
            turn = next((t for t in self.sent[:index + 1]
                         if t is not None and t.result.last is None and t.result.error is None and not t.held), None)
            if turn is None:
                continue
            at = now()
            turn.result.first = turn.result.first or at
            turn.result.last = at
            turn.result.late = turn.result.late or turn.result.system == "outage"
            self.stats.matched_from_history += 1
            if turn in self.waiting:
                self.waiting.remove(turn)
            turn.replied.set()

    async def wait_for(self, event: asyncio.Event, deadline: float) -> bool:
        """Until the event, reconnecting when the connection drops; False at the deadline."""
        while not event.is_set():
            remaining = deadline - now()
            if remaining <= 0:
                return False
            if self.dropped.is_set() or self.client is None:
                await self.reconnect(deadline)
                continue
            waiters = [asyncio.ensure_future(event.wait()), asyncio.ensure_future(self.dropped.wait())]
            try:
                await asyncio.wait(waiters, timeout=remaining, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiter in waiters:
                    waiter.cancel()
        return True

    async def wait_for_kept(self, deadline: float) -> None:
        """Until every message that got the outage notice is answered, or the deadline."""
        def kept() -> bool:
            return any(t is not None and t.result.system == "outage" and t.result.last is None
                       and t.result.error is None for t in self.sent)

        while kept() and now() < deadline:
            if self.dropped.is_set() or self.client is None:
                await self.reconnect(deadline)
                continue
            await asyncio.sleep(0.2)
        if kept():
            self.stats.problem(self, "a kept message (outage notice) not answered")

    async def close(self) -> None:
        client, self.client = self.client, None
        if client is not None:
            await _close_client(client)

    # -- what the hub says ----------------------------------------------------------------------

    def _typing(self, data: Any) -> None:
        if isinstance(data, dict) and data.get("from") == "bot" and data.get("active"):
            self.heard.append(f"(typing, {len(self.waiting)} waiting)")
            if self.current is not None and not self._heard_since_typing:
                # The last attempt said nothing (a retry of a kept message failed again, no second
                # notice): this typing is another attempt at the same message.
                self.waiting.appendleft(self.current)
                self.current = None
            if self.waiting:
                self.current = self.waiting.popleft()
                self._heard_since_typing = False

    def _uttered(self, data: Any) -> None:
        at = now()
        meta = data.get("metadata") or {}
        message_id = meta.get("message_id")
        if message_id is not None:
            if message_id in self.seen:  # heard live and in the history
                return
            self.seen.add(message_id)
        who, text = meta.get("from"), data.get("text") or ""
        self.heard.append(f"{who}: {text[:60]}")
        if who == "agent":
            self.agent_said.append((at, text))
            self.agent_event.set()
            return
        if who == "system":
            if text == notices.HANDED_BACK:
                self.handed_back.set()
                return
            if JOINED.search(text):
                return
            if _queue_notice(text):
                self.queued_at = at
                self.queued.set()
                # Messages sent after the handoff are held for people: no bot turn will come.
                for held in self.waiting:
                    held.held = True
                    held.replied.set()
                self.waiting.clear()
                if self.waiting_turn is not None:
                    self.waiting_turn.replied.set()
        turn = self.current
        if turn is None:
            return
        self._heard_since_typing = True
        result = turn.result
        if who == "system" and text == NO_ANSWER:
            result.system = result.system or "no answer"
        elif who == "system" and text.startswith(OUTAGE_START):
            # Kept for later: the hub forwards it again (another `typing`) when Rasa is back.
            result.system = result.system or "outage"
            if result.first is None:
                result.first = at
            turn.replied.set()
            self.waiting.appendleft(turn)
            self.current = None
            return
        elif result.system == "outage" and who == "bot":
            result.late = True
        if result.first is None:
            result.first = at
        if not _queue_notice(text):
            result.last = at
        turn.replied.set()

    # -- what the customer says -----------------------------------------------------------------

    async def say_to_bot(self, text: str, timeout: float) -> HubTurn:
        turn = HubTurn(TurnResult(sent=now()))
        self.stats.turns.append(turn.result)
        self.waiting.append(turn)
        deadline = turn.result.sent + timeout
        await self._send(text, turn, deadline)
        self.waiting_turn = turn
        try:
            replied = await self.wait_for(turn.replied, deadline)
        except Abandon:
            turn.result.error = turn.result.error or "reconnect failed"
            raise
        finally:
            self.waiting_turn = None
        if not replied:
            turn.result.error = "timeout"
            self.stats.error("timeout")
            self.stats.problem(self, f"no reply to {text!r}")
            raise Abandon
        if turn.held:
            self.stats.turns.remove(turn.result)
            self.stats.held += 1
        return turn

    async def say_to_person(self, text: str, timeout: float) -> None:
        await self._send(text, None, now() + timeout)
        self.stats.held += 1

    async def _send(self, text: str, turn: Optional[HubTurn], deadline: float) -> None:
        """Sent until acknowledged (as stored), with the same client message id each time, like the widget."""
        message_id = uuid.uuid4().hex
        if turn is not None:
            turn.result.message_id = message_id
        self.heard.append(f"customer: {text[:60]}")
        attempts = 0
        while True:
            attempts += 1
            if self.dropped.is_set() or self.client is None:
                try:
                    await self.reconnect(deadline)
                except Abandon:
                    self._failed(turn, None)
                    raise
            assert self.client is not None
            try:
                ack = await self.client.call("user_uttered", {"message": text, "session_id": self.session_id,
                                                              "message_id": message_id},
                                             timeout=max(0.1, min(ACK_TIMEOUT, deadline - now())))
            except (socketio.exceptions.SocketIOError, asyncio.TimeoutError) as exc:
                if attempts == 1:
                    self.stats.unacked += 1
                    self.stats.unacked_ids.append(message_id)
                if now() >= deadline:
                    no_ack = isinstance(exc, (socketio.exceptions.TimeoutError, asyncio.TimeoutError))
                    self._failed(turn, "no ack" if no_ack else "socket")
                    raise Abandon from exc
                if not self.client.connected:
                    self.dropped.set()
                else:
                    await asyncio.sleep(min(RESEND_PAUSE, max(0.0, deadline - now())))
                continue
            if not (isinstance(ack, dict) and ack.get("ok")):
                self._failed(turn, f"refused: {ack.get('error') if isinstance(ack, dict) else ack}")
                raise Abandon
            if attempts > 1:
                self.stats.acked_on_retry += 1
                if ack.get("duplicate"):
                    self.stats.stored_before_ack += 1
            self.stats.acked_ids.append(message_id)
            self.sent.append(turn)
            return

    def _failed(self, turn: Optional[HubTurn], kind: Optional[str]) -> None:
        if kind is not None:
            self.stats.error(kind)
        if turn is not None:
            turn.result.error = kind or "reconnect failed"
            if turn in self.waiting:
                self.waiting.remove(turn)


async def hub_conversation(urls: Sequence[str], conv: load_scripts.Conversation, stats: LevelStats,
                           args: argparse.Namespace, rng: random.Random, end: float, home: int = 0) -> None:
    customer = HubCustomer(urls, stats, home)
    try:
        await customer.open(args.reply_timeout)
        for turn in conv.turns:
            if now() >= end:
                break
            if turn.handoff:
                stats.handoffs_expected += 1
            sent = await customer.say_to_bot(turn.text, args.reply_timeout)
            await think(args, rng)
            if turn.handoff and not customer.queued.is_set():
                # The queue notice follows the bot's words in the same turn; give it a moment.
                wait = max(2.0, 3 * ((sent.result.first or now()) - sent.result.sent))
                if not await customer.wait_for(customer.queued, now() + wait):
                    stats.handoffs_missed += 1
            if customer.queued.is_set():
                await with_people(customer, conv, stats, args, rng)
        # Told its message is kept and will be answered: it stays for the answer (within the reply timeout).
        await customer.wait_for_kept(now() + args.reply_timeout)
    finally:
        await customer.close()


async def with_people(customer: HubCustomer, conv: load_scripts.Conversation, stats: LevelStats,
                      args: argparse.Namespace, rng: random.Random) -> None:
    """The conversation is in the agents' queue: talk with the agent until they hand back."""
    stats.handoffs += 1
    # The agent says two things and hands back after the second answer: two lines each time.
    lines = list(conv.to_agent) or ["ok, thanks", "alright"]
    first = customer.agent_heard  # the agent's words of earlier handoffs (these may have come already)
    for index, line in enumerate(lines):
        # Each line answers one message of the agent's (which may have come while the customer thought).
        while len(customer.agent_said) <= first + index and not customer.handed_back.is_set():
            customer.agent_event.clear()
            if len(customer.agent_said) > first + index:
                break
            if not await customer.wait_for(customer.agent_event, now() + args.agent_timeout):
                stats.error("no agent")
                stats.problem(customer, "no agent message")
                raise Abandon
        if index == 0 and len(customer.agent_said) > first:
            stats.agent_waits.append(customer.agent_said[first][0] - customer.queued_at)
        if customer.handed_back.is_set():
            break
        await think(args, rng)
        await customer.say_to_person(line, args.reply_timeout)
    if not await customer.wait_for(customer.handed_back, now() + args.agent_timeout):
        stats.error("no hand-back")
        stats.problem(customer, "no hand-back")
        raise Abandon
    stats.handed_back += 1
    customer.agent_heard = len(customer.agent_said)
    customer.queued.clear()
    customer.handed_back.clear()
