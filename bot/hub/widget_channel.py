"""The widget's socket: the protocol of Rasa's ``socketio`` channel, served by the hub.

``session_request`` / ``session_confirm``, ``user_uttered`` / ``bot_uttered``
and session persistence (a customer's sockets join the room of their session
id), so existing Rasa web widgets work against the hub unchanged. Extensions
other widgets ignore: acknowledgements, ``history_request`` / ``history``,
``typing`` and ``metadata`` on every ``bot_uttered``.
"""

from __future__ import annotations

import logging
import re
import uuid
from typing import Any, Dict, Optional

import socketio

from bot.db import conversations as store
from bot.db import session_scope
from bot.hub import views
from bot.hub.routing import MessageRejected, Router

logger = logging.getLogger(__name__)

NAMESPACE = "/"
_SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def room(session_id: str) -> str:
    return f"session:{session_id}"


class WidgetChannel:
    def __init__(self, sio: socketio.AsyncServer, router: Router) -> None:
        self.sio = sio
        self.router = router
        sio.on("connect", self.connect, namespace=NAMESPACE)
        sio.on("session_request", self.session_request, namespace=NAMESPACE)
        sio.on("user_uttered", self.user_uttered, namespace=NAMESPACE)
        sio.on("history_request", self.history_request, namespace=NAMESPACE)

    async def connect(self, sid: str, environ: Dict[str, Any], auth: Any = None) -> bool:
        return True

    async def _confirmed(self, sid: str) -> Optional[str]:
        return (await self.sio.get_session(sid, namespace=NAMESPACE)).get("session_id")

    async def _join(self, sid: str, session_id: str) -> None:
        await self.sio.save_session(sid, {"session_id": session_id}, namespace=NAMESPACE)
        await self.sio.enter_room(sid, room(session_id), namespace=NAMESPACE)

    async def session_request(self, sid: str, data: Any = None) -> None:
        requested = data.get("session_id") if isinstance(data, dict) else None
        # A stored id continues its conversation; anything else gets a new one.
        session_id = requested if isinstance(requested, str) and _SESSION_ID.match(requested) else uuid.uuid4().hex
        await self._join(sid, session_id)
        await self.sio.emit("session_confirm", session_id, to=sid, namespace=NAMESPACE)

    async def _refuse(self, sid: str, error: str) -> Dict[str, Any]:
        logger.info("refused a widget message from %s: %s", sid, error)
        await self.sio.emit("bot_uttered", {"text": f"Sorry, I couldn't take that message: {error}.",
                                            "metadata": {"from": "system", "error": True}},
                            to=sid, namespace=NAMESPACE)
        return {"ok": False, "error": error}

    async def user_uttered(self, sid: str, data: Any = None) -> Dict[str, Any]:
        if not isinstance(data, dict):
            return await self._refuse(sid, "a message must be an object with a 'message' field")
        session_id = await self._confirmed(sid)
        claimed = data.get("session_id")
        if session_id is None:
            # Widgets that skip session_request: the claimed id, or this socket's own.
            session_id = claimed if isinstance(claimed, str) and _SESSION_ID.match(claimed) else uuid.uuid4().hex
            await self._join(sid, session_id)
        elif claimed not in (None, "", session_id):
            return await self._refuse(sid, "the message names a different session")
        try:
            accepted = await self.router.customer_message("web", session_id, data.get("message"), data.get("message_id"))
        except MessageRejected as exc:
            return await self._refuse(sid, str(exc))
        return {"ok": True, "message_id": data.get("message_id"), "duplicate": accepted.duplicate}

    async def history_request(self, sid: str, data: Any = None) -> None:
        session_id = await self._confirmed(sid)
        if session_id is None:
            await self.sio.emit("history", {"messages": []}, to=sid, namespace=NAMESPACE)
            return
        async with session_scope(self.router.db_url) as session:
            messages = await views.message_views(session, await store.session_messages(session, "web", session_id))
        await self.sio.emit("history", {"messages": messages}, to=sid, namespace=NAMESPACE)
