"""What agents do to a conversation: take, reply, type, hand back, resolve.

Each action runs in the conversation's order (:meth:`Router.in_order`) and changes
status through :mod:`bot.conversations.lifecycle` (compare-and-set, so two agents can
never both win; the consoles hear of it from the lifecycle's change event).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Dict

from bot.conversations import agents as agent_data
from bot.conversations import status as machine
from bot.conversations import store
from bot.conversations.intake import Conflict, clean_text
from bot.conversations.models import Agent, Conversation
from bot.db import session_scope
from bot.hub import notices
from bot.hub.rasa_client import RasaUnavailable
from bot.hub.routing import Router

logger = logging.getLogger(__name__)


class AgentDesk:
    def __init__(self, router: Router) -> None:
        self.router = router

    async def take(self, agent: Agent, public_id: str) -> Dict[str, Any]:
        async def work(session, conversation: Conversation, now: dt.datetime):
            if not await self.router.lifecycle.take(session, conversation, agent.id, now):
                raise Conflict(await self._conflict_text(session, conversation, "take"))
            await self.router.say(session, conversation, "system", notices.agent_joined(agent.name), now)
            return await self.router.conversation_view(session, conversation)

        return await self.router.in_order(public_id, work)

    async def message(self, agent: Agent, public_id: str, raw_text: Any) -> Dict[str, Any]:
        text = clean_text(raw_text, self.router.settings.hub.max_message_chars)

        async def work(session, conversation: Conversation, now: dt.datetime):
            self._require_assignee(conversation, agent)
            return await self.router.say(session, conversation, "agent", text, now, agent=agent)

        return await self.router.in_order(public_id, work)

    async def typing(self, agent: Agent, public_id: str, active: bool) -> None:
        async with session_scope(self.router.db_url) as session:
            conversation = await store.get_conversation(session, public_id)
        if conversation is not None and conversation.assigned_agent_id == agent.id:
            await self.router.delivery.typing(conversation, bool(active), "agent")

    async def hand_back(self, agent: Agent, public_id: str) -> Dict[str, Any]:
        async def work(session, conversation: Conversation, now: dt.datetime):
            await self._end_stay(session, conversation, agent, "hand_back", now)
            try:
                await self.router.rasa.resume(conversation.public_id)
                await store.update_conversation(session, conversation, now, rasa_needs_resume=False)
            except RasaUnavailable as exc:
                # Kept in rasa_needs_resume: the next forward resumes first.
                logger.warning("resume of %s deferred: %s", conversation.public_id, exc)
            await self.router.say(session, conversation, "system", notices.HANDED_BACK, now)
            return await self.router.conversation_view(session, conversation)

        return await self.router.in_order(public_id, work)

    async def resolve(self, agent: Agent, public_id: str) -> Dict[str, Any]:
        async def work(session, conversation: Conversation, now: dt.datetime):
            await self._end_stay(session, conversation, agent, "resolve", now)
            await self.router.say(
                session, conversation, "system", notices.RATE_US, now, payload={"quick_replies": notices.RATINGS}
            )
            return await self.router.conversation_view(session, conversation)

        return await self.router.in_order(public_id, work)

    async def _end_stay(self, session, conversation: Conversation, agent: Agent, action: str, now: dt.datetime) -> None:
        """Hand-back and resolve: only the assignee may end an assigned stay, and only once."""
        if conversation.status == "assigned":
            self._require_assignee(conversation, agent)
        change = self.router.lifecycle.hand_back if action == "hand_back" else self.router.lifecycle.resolve
        if not await change(session, conversation, now):
            raise Conflict(await self._conflict_text(session, conversation, action))

    def _require_assignee(self, conversation: Conversation, agent: Agent) -> None:
        if conversation.status != "assigned" or conversation.assigned_agent_id != agent.id:
            raise Conflict("this conversation is not assigned to you; take it first")

    async def _conflict_text(self, session, conversation: Conversation, action: str) -> str:
        if conversation.status == "assigned" and conversation.assigned_agent_id is not None:
            holder = await agent_data.get_agent(session, conversation.assigned_agent_id)
            return f"already taken by {holder.name if holder else 'another agent'}"
        return str(machine.InvalidTransition(conversation.status, action))
