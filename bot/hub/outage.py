"""While Rasa is unreachable: kept messages are answered when it is back, or
handed to a person after ``rasa_outage_handoff_seconds``; after a restart,
messages stored but never routed are picked up. Work goes through the router's
per-conversation order, so a retried message never overtakes a newer one."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Dict, List, Optional

from bot.conversations import store
from bot.conversations.intake import conversation_key
from bot.conversations.models import Message
from bot.db import session_scope
from bot.hub.routing import Router
from bot.loops import Loop

logger = logging.getLogger(__name__)

# The hub's own handoff reason (bot.handoff_reasons).
BOT_UNAVAILABLE = "bot_unavailable"


class OutageRecovery:
    def __init__(self, router: Router) -> None:
        self.router = router
        self._loop = Loop("Rasa retry loop", self.retry_waiting, router.settings.rasa.retry_seconds)

    async def retry_waiting(self) -> None:
        """One pass over kept messages: answer them if Rasa is back, or hand them to a person."""
        async with session_scope(self.router.db_url) as session:
            waiting = await store.waiting_for_bot(session)
            by_conversation: Dict[int, List[Message]] = {}
            for message in waiting:
                by_conversation.setdefault(message.conversation_id, []).append(message)
            keys = {}
            for conversation_id in by_conversation:
                conversation = await store.get_conversation_by_id(session, conversation_id)
                keys[conversation_id] = conversation_key(conversation.channel, conversation.session_key)
        if not by_conversation:
            return
        now = self.router.clock()
        limit = dt.timedelta(seconds=self.router.settings.rasa.outage_handoff_seconds)
        healthy: Optional[bool] = None
        for conversation_id, messages in by_conversation.items():
            oldest = messages[0].created_at
            if oldest.tzinfo is None:
                oldest = oldest.replace(tzinfo=dt.timezone.utc)
            if now - oldest >= limit:
                self.router.chain(keys[conversation_id], lambda cid=conversation_id: self._outage_handoff(cid))
                continue
            if healthy is None:
                healthy = await self.router.rasa.healthy()
            if healthy:
                for message in messages:
                    self.router.chain(
                        keys[conversation_id],
                        lambda cid=conversation_id, mid=message.id: self._forward_if_waiting(cid, mid),
                    )

    async def _forward_if_waiting(self, conversation_id: int, message_id: int) -> None:
        async with session_scope(self.router.db_url) as session:
            message = await session.get(Message, message_id)
            if message is None or message.delivery != "waiting_for_bot":
                return
        await self.router.forward(conversation_id, message_id, retry=True)

    async def _outage_handoff(self, conversation_id: int) -> None:
        async with session_scope(self.router.db_url) as session:
            conversation = await store.get_conversation_by_id(session, conversation_id)
            waiting = await store.waiting_for_bot(session, conversation_id)
            if not waiting:
                return
            await store.set_delivery(session, [m.id for m in waiting], "held_for_agent")
            summary = {
                "reason": BOT_UNAVAILABLE,
                "detail": "the assistant was unreachable",
                "transcript": [
                    {"from": m.sender, "text": m.text} for m in await store.messages_for(session, conversation_id, 30)
                ],
            }
            await self.router.escalate(session, conversation, BOT_UNAVAILABLE, None, summary, self.router.clock())

    async def recover(self) -> None:
        """After a restart: messages stored but never routed are kept for the retry loop."""
        async with session_scope(self.router.db_url) as session:
            rows = await store.unrouted_customer_messages(session)
            to_bot = [mid for mid, status in rows if status == "bot"]
            to_people = [mid for mid, status in rows if status != "bot"]
            await store.set_delivery(session, to_bot, "waiting_for_bot")
            await store.set_delivery(session, to_people, "held_for_agent")
        if rows:
            logger.info("recovered %d messages that were stored but not yet answered", len(rows))

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()
        await self.router.drain()
