"""Where the router's output goes: the customer's channel and the agents' consoles."""

from __future__ import annotations

from typing import Any, Callable, Dict, Optional

import socketio

from bot.conversations.models import Conversation
from bot.hub import console_socket, widget_channel
from bot.hub.replies import socket_message


class SocketDelivery:
    """Widget customers and console agents over socket.io (Redis fans out between hubs).

    Email customers get their messages from the outbound email queue, which collects whole
    turns from the store; ``on_email`` only wakes it.
    """

    def __init__(self, sio: socketio.AsyncServer, on_email: Optional[Callable[[], None]] = None) -> None:
        self.sio = sio
        self.on_email = on_email

    async def to_customer(self, conversation: Conversation, message: Dict[str, Any]) -> None:
        if conversation.channel == "email" and self.on_email is not None:
            self.on_email()
        if conversation.channel != "web":
            return
        metadata = {"from": message["from"], "message_id": message["id"], "at": message["at"]}
        if message.get("agent_name"):
            metadata["agent_name"] = message["agent_name"]
        payload: Dict[str, Any] = {k: message[k] for k in ("quick_replies", "attachment") if k in message}
        await self.sio.emit(
            "bot_uttered",
            socket_message(message["text"], payload, metadata),
            room=widget_channel.room(conversation.session_key),
            namespace=widget_channel.NAMESPACE,
        )

    async def typing(self, conversation: Conversation, active: bool, who: str) -> None:
        if conversation.channel == "web":
            await self.sio.emit(
                "typing",
                {"active": active, "from": who},
                room=widget_channel.room(conversation.session_key),
                namespace=widget_channel.NAMESPACE,
            )

    async def to_agents(self, event: str, data: Dict[str, Any]) -> None:
        await self.sio.emit(event, data, room=console_socket.AGENTS_ROOM, namespace=console_socket.NAMESPACE)
