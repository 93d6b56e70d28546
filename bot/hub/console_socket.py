"""The console's live socket (namespace ``/console``): queue, messages and
conversation changes pushed to signed-in agents; agent typing relayed to customers."""

from __future__ import annotations

import logging
from typing import Any, Dict

import socketio

from bot.hub import auth
from bot.hub.agent_desk import AgentDesk

logger = logging.getLogger(__name__)

NAMESPACE = "/console"
AGENTS_ROOM = "agents"


class ConsoleSocket:
    def __init__(self, sio: socketio.AsyncServer, desk: AgentDesk) -> None:
        self.sio = sio
        self.desk = desk
        self.db_url = desk.router.db_url
        sio.on("connect", self.connect, namespace=NAMESPACE)
        sio.on("typing", self.typing, namespace=NAMESPACE)

    async def connect(self, sid: str, environ: Dict[str, Any], auth_data: Any = None) -> None:
        if not auth.same_origin(environ):
            raise socketio.exceptions.ConnectionRefusedError("console connections must come from the console page")
        token = auth.token_from_cookie_header(environ.get("HTTP_COOKIE"))
        agent = await auth.agent_for_token(self.db_url, token)
        if agent is None:
            raise socketio.exceptions.ConnectionRefusedError("sign in first")
        await self.sio.save_session(sid, {"token": token}, namespace=NAMESPACE)
        await self.sio.enter_room(sid, AGENTS_ROOM, namespace=NAMESPACE)

    async def resync(self) -> None:
        """Tells this process's consoles to load everything again, as after a reconnection: what was
        published while Redis was away (another hub's messages, queue and status changes) never
        reached them live."""
        await self.sio.emit("resync", {}, room=AGENTS_ROOM, namespace=NAMESPACE, ignore_queue=True)

    async def typing(self, sid: str, data: Any = None) -> None:
        if not isinstance(data, dict) or not isinstance(data.get("conversation_id"), str):
            return
        token = (await self.sio.get_session(sid, namespace=NAMESPACE)).get("token")
        agent = await auth.agent_for_token(self.db_url, token)
        if agent is None:  # the session expired while the socket stayed open
            await self.sio.disconnect(sid, namespace=NAMESPACE)
            return
        await self.desk.typing(agent, data["conversation_id"], bool(data.get("active")))
