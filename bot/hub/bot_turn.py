"""The bot's turn: one stored customer message sent to Rasa, and what comes back
stored and relayed (replies, a verified customer, a handoff), or the message kept
for later when Rasa is unreachable."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Dict

from sqlalchemy.ext.asyncio import AsyncSession

from bot import handoff_reasons
from bot.conversations import store
from bot.conversations.models import Message
from bot.db import session_scope
from bot.hub import metrics as hub_metrics
from bot.hub import notices
from bot.hub.rasa_client import RasaUnavailable
from bot.hub.replies import read_replies

if TYPE_CHECKING:  # the router owns the turn; only its type is needed here
    from bot.hub.routing import Router

logger = logging.getLogger(__name__)


async def unavailable_summary(session: AsyncSession, conversation_id: int, detail: str) -> Dict[str, Any]:
    """What the agent gets when the hub hands over because the assistant can't answer."""
    recent = await store.messages_for(session, conversation_id, 30)
    return {
        "reason": handoff_reasons.BOT_UNAVAILABLE,
        "detail": detail,
        "transcript": [{"from": m.sender, "text": m.text} for m in recent],
    }


class BotTurn:
    def __init__(self, router: "Router") -> None:
        self.router = router

    async def forward(self, conversation_id: int, message_id: int, retry: bool = False) -> None:
        """Sends one stored customer message to Rasa and relays what comes back.

        A retry first asks Rasa's tracker whether the earlier attempt got through (a
        timeout is not proof that Rasa never saw it), so no message is processed twice.
        """
        async with session_scope(self.router.db_url) as session:
            conversation = await store.existing_conversation(session, conversation_id)
            message = await session.get(Message, message_id)
            sender_id, text = conversation.public_id, message.text
            metadata = {
                "channel": conversation.channel,
                "conversation_id": conversation.public_id,
                "customer_id": conversation.customer_id,
                "hub_message_id": message_id,
            }
            needs_resume = conversation.rasa_needs_resume
        await self.router.delivery.typing(conversation, True, "bot")
        try:
            if needs_resume:
                await self.router.rasa.resume(sender_id)
            replies = await self.router.rasa.replies_to(sender_id, message_id) if retry else None
            if replies is None:
                with hub_metrics.RASA_SECONDS.time():
                    replies = await self.router.rasa.send(sender_id, text, metadata)
        except RasaUnavailable as exc:
            logger.warning("keeping message %s for later: %s", message_id, exc)
            hub_metrics.error("rasa_unavailable")
            await self.router.delivery.typing(conversation, False, "bot")
            await self._keep_for_later(conversation_id, message_id)
            return
        await self.router.delivery.typing(conversation, False, "bot")
        turn = read_replies(replies)
        async with session_scope(self.router.db_url) as session:
            conversation = await store.existing_conversation(session, conversation_id)
            now = self.router.clock()
            await store.set_delivery(session, [message_id], "answered")
            changes: Dict[str, Any] = {"outage_notice_sent": False}
            if needs_resume:
                changes["rasa_needs_resume"] = False
            if turn.verified and isinstance(turn.verified.get("customer_id"), int):
                changes["customer_id"] = turn.verified["customer_id"]
                changes["customer_known_by"] = "verification"
            await store.update_conversation(session, conversation, now, **changes)
            for reply in turn.messages:
                await self.router.say(session, conversation, "bot", reply["text"], now, payload=reply["payload"])
            if not turn.messages and turn.handoff is None:
                # Rasa took the message but said nothing: usually the action server is down. Twice in
                # a row, a person takes over (asking for one runs an action too, so it would fail).
                if await store.last_reply_text(session, conversation_id) == notices.NO_ANSWER:
                    summary = await unavailable_summary(
                        session, conversation_id, "the assistant could not answer twice in a row"
                    )
                    await self.router.escalate(
                        session, conversation, handoff_reasons.BOT_UNAVAILABLE, None, summary, now
                    )
                else:
                    await self.router.say(session, conversation, "system", notices.NO_ANSWER, now)
            if turn.handoff is not None:
                reason = str(turn.handoff.get("reason") or handoff_reasons.DEFAULT)
                await self.router.escalate(
                    session, conversation, reason, turn.handoff.get("priority"), turn.handoff, now
                )

    async def _keep_for_later(self, conversation_id: int, message_id: int) -> None:
        async with session_scope(self.router.db_url) as session:
            conversation = await store.existing_conversation(session, conversation_id)
            await store.set_delivery(session, [message_id], "waiting_for_bot")
            if not conversation.outage_notice_sent:
                now = self.router.clock()
                await store.update_conversation(session, conversation, now, outage_notice_sent=True)
                await self.router.say(session, conversation, "system", notices.outage(self.router.settings), now)
