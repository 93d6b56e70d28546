"""While Rasa is unreachable: kept messages are answered when it is back, or
handed to a person after ``rasa_outage_handoff_seconds``. Messages stored but never
answered by a hub process that is gone (a restart, a crash, kill -9 of one of several
hubs) are picked up by the next pass of any live one; those of this process whose turn
failed (a database restart mid-turn) by its own next pass. A kept message is claimed before it is
retried, so only one hub process retries it. Work goes through the router's
per-conversation order, so a retried message never overtakes a newer one."""

from __future__ import annotations

import datetime as dt
import functools
import logging
import time
from typing import Any, Dict, List, Optional, Tuple

from bot import handoff_reasons
from bot.conversations import claims, message_views, store
from bot.conversations.intake import conversation_key
from bot.conversations.models import Message
from bot.db import session_scope
from bot.hub.bot_turn import unavailable_summary
from bot.hub.routing import Router
from bot.loops import Loop

logger = logging.getLogger(__name__)

BOT_UNAVAILABLE = handoff_reasons.BOT_UNAVAILABLE


class OutageRecovery:
    def __init__(self, router: Router) -> None:
        self.router = router
        self._loop = Loop("Rasa retry loop", self.retry_waiting, router.settings.rasa.retry_seconds)
        # A hub counts as gone once it has been missing this long: after a database restart every
        # hub loses its liveness lock at once and takes it again on its next pass, so a live hub
        # can look gone for up to one pass (and picking its messages up would answer them twice).
        self.gone_after_seconds = 2 * router.settings.rasa.retry_seconds + 1
        self._missing_since: Dict[int, float] = {}

    async def retry_waiting(self) -> None:
        """One pass over kept messages: answer them if Rasa is back, or hand them to a person."""
        await self.recover()
        async with session_scope(self.router.db_url) as session:
            waiting = await store.waiting_for_bot(session)
            by_conversation: Dict[int, List[Message]] = {}
            for message in waiting:
                by_conversation.setdefault(message.conversation_id, []).append(message)
            keys = {}
            for conversation_id in by_conversation:
                conversation = await store.existing_conversation(session, conversation_id)
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
                self.router.chain(keys[conversation_id], functools.partial(self._outage_handoff, conversation_id))
                continue
            if healthy is None:
                healthy = await self.router.rasa.healthy()
            if healthy:
                for message in messages:
                    self.router.chain(
                        keys[conversation_id], functools.partial(self._forward_if_waiting, conversation_id, message.id)
                    )

    async def _forward_if_waiting(self, conversation_id: int, message_id: int) -> None:
        async with session_scope(self.router.db_url) as session:
            if not await claims.claim_for_bot(session, message_id, self.router.instance.id):
                return  # answered meanwhile, or another hub process took it
        await self.router.forward(conversation_id, message_id, retry=True)

    async def _outage_handoff(self, conversation_id: int) -> None:
        async with session_scope(self.router.db_url) as session:
            conversation = await store.existing_conversation(session, conversation_id)
            waiting = await store.waiting_for_bot(session, conversation_id)
            if not waiting:
                return
            await store.set_delivery(session, [m.id for m in waiting], "held_for_agent")
            summary = await unavailable_summary(session, conversation_id, "the assistant was unreachable")
            await self.router.escalate(session, conversation, BOT_UNAVAILABLE, None, summary, self.router.clock())

    async def recover(self) -> None:
        """Messages stored but not answered by a hub process that is gone, or by this one when their
        turn failed, are kept for the retry loop (or held for the agents, when people have the
        conversation now)."""
        await self.router.instance.keep_alive()
        async with session_scope(self.router.db_url) as session:
            live = set(await self.router.instance.live_ids(session))
            now = time.monotonic()
            missing = await claims.hubs_with_unanswered_messages(session) - live
            self._missing_since = {hub: self._missing_since.get(hub, now) for hub in missing}
            recent = {hub for hub, since in self._missing_since.items() if now - since < self.gone_after_seconds}
            rows = await claims.orphaned_customer_messages(session, sorted(live | recent))
            # This process's own messages whose turn failed (the database went away mid-turn, say): nothing
            # routes them again while it lives. Those of conversations with work queued here wait their turn.
            rows += [
                (mid, status)
                for mid, status, channel, key in await claims.unanswered_messages_of(session, self.router.instance.id)
                if self.router.order.idle(conversation_key(channel, key))
            ]
            to_bot = [mid for mid, status in rows if status == "bot"]
            to_people = [mid for mid, status in rows if status != "bot"]
            await claims.release_orphans(session, to_bot, "waiting_for_bot")
            await claims.release_orphans(session, to_people, "held_for_agent")
            held = [await self._announcement(session, mid) for mid in to_people]
        for conversation_id, view in held:  # the agents now have them: their consoles show them live
            await self.router.delivery.to_agents("message", {"conversation_id": conversation_id, "message": view})
        if rows:
            logger.info(
                "picked up %d messages stored but not answered (their hub process gone, or their turn failed)",
                len(rows),
            )

    @staticmethod
    async def _announcement(session, message_id: int) -> Tuple[str, Dict[str, Any]]:
        message = await store.existing_message(session, message_id)
        conversation = await store.existing_conversation(session, message.conversation_id)
        return conversation.public_id, message_views.message_view(message)

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()
        await self.router.drain()
