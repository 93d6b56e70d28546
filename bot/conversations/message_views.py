"""Messages as every channel shows them: plain JSON-ready dicts (the widget, the
console, and the email queue that turns a turn's messages into one email)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Dict, List, Optional

from bot.conversations import agents as agent_data
from bot.conversations.models import Message


def iso(moment: Optional[dt.datetime]) -> Optional[str]:
    if moment is None:
        return None
    if moment.tzinfo is None:  # SQLite hands back naive UTC
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.isoformat()


def message_view(message: Message, agent_names: Optional[Dict[int, str]] = None) -> Dict[str, Any]:
    view: Dict[str, Any] = {
        "id": message.id,
        "from": message.sender,
        "text": message.text,
        "at": iso(message.created_at),
        "delivery": message.delivery,
    }
    payload = json.loads(message.payload) if message.payload else {}
    if payload.get("quick_replies"):
        view["quick_replies"] = payload["quick_replies"]
    if payload.get("attachment"):
        view["attachment"] = payload["attachment"]
    if message.agent_id is not None and agent_names:
        view["agent_name"] = agent_names.get(message.agent_id)
    return view


async def agent_names(session) -> Dict[int, str]:
    return {agent.id: agent.name for agent in await agent_data.all_agents(session)}


async def message_views(session, messages: List[Message]) -> List[Dict[str, Any]]:
    names = await agent_names(session)
    return [message_view(message, names) for message in messages]
