"""The widget's socket: the protocol of Rasa's ``socketio`` channel, served by the hub.

``session_request`` / ``session_confirm``, ``user_uttered`` / ``bot_uttered``
and session persistence (a customer's sockets join the room of their session
id), so existing Rasa web widgets work against the hub unchanged. Extensions
other widgets ignore: acknowledgements, ``history_request`` / ``history``,
``typing`` and ``metadata`` on every ``bot_uttered``.

Abuse limits (bot.hub.rate_limits, per process): open connections per address,
new sessions per address per hour, messages per connection and per session, and
history requests per connection. A client over a limit gets a clear error event
(``bot_uttered`` with ``metadata.error``, or a refused connection) and nothing else
happens: what it sent beyond the limit is not stored or answered.
"""

from __future__ import annotations

import logging
import re
import uuid
from typing import Any, Dict, List, Optional

import socketio

from bot.config import Settings
from bot.conversations import message_views, store
from bot.conversations.intake import MessageRejected
from bot.db import session_scope
from bot.hub.rate_limits import ConnectionCounts, TokenBuckets
from bot.hub.routing import Router

logger = logging.getLogger(__name__)

NAMESPACE = "/"
_SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def room(session_id: str) -> str:
    return f"session:{session_id}"


def client_address(environ: Dict[str, Any], trust_forwarded_for: bool) -> str:
    """The client's IP address: the socket's peer, or, behind a trusted proxy, the
    address that proxy saw (the last one it appended to X-Forwarded-For)."""
    if trust_forwarded_for:
        forwarded = [a.strip() for a in (environ.get("HTTP_X_FORWARDED_FOR") or "").split(",") if a.strip()]
        if forwarded:
            return forwarded[-1]
    request = environ.get("aiohttp.request")
    return getattr(request, "remote", None) or environ.get("REMOTE_ADDR") or "unknown"


class WidgetLimits:
    """The widget's abuse limits, from the settings."""

    def __init__(self, settings: Settings) -> None:
        messages_per_second = settings.widget.messages_per_minute / 60.0
        self.connections = ConnectionCounts(settings.widget.connections_per_ip)
        self.new_sessions = TokenBuckets(
            settings.widget.sessions_per_ip_per_hour, settings.widget.sessions_per_ip_per_hour / 3600.0
        )
        self.messages_per_connection = TokenBuckets(settings.widget.message_burst, messages_per_second)
        self.messages_per_session = TokenBuckets(settings.widget.message_burst, messages_per_second)
        self.history = TokenBuckets(
            settings.widget.history_requests_per_minute, settings.widget.history_requests_per_minute / 60.0
        )
        self.history_limit = settings.widget.history_limit
        self.trust_forwarded_for = settings.widget.trust_forwarded_for


class WidgetChannel:
    def __init__(self, sio: socketio.AsyncServer, router: Router) -> None:
        self.sio = sio
        self.router = router
        self.limits = WidgetLimits(router.settings)
        sio.on("connect", self.connect, namespace=NAMESPACE)
        sio.on("disconnect", self.disconnect, namespace=NAMESPACE)
        sio.on("session_request", self.session_request, namespace=NAMESPACE)
        sio.on("user_uttered", self.user_uttered, namespace=NAMESPACE)
        sio.on("history_request", self.history_request, namespace=NAMESPACE)

    async def connect(self, sid: str, environ: Dict[str, Any], auth: Any = None) -> bool:
        address = client_address(environ, self.limits.trust_forwarded_for)
        if not self.limits.connections.open(sid, address):
            logger.warning("refused a widget connection from %s: too many open connections", address)
            raise socketio.exceptions.ConnectionRefusedError(
                "too many open chat connections from your address; close some chat windows and try again"
            )
        return True

    async def disconnect(self, sid: str) -> None:
        self.limits.connections.close(sid)
        self.limits.messages_per_connection.forget(sid)
        self.limits.history.forget(sid)

    async def _new_session_allowed(self, sid: str) -> bool:
        if self.limits.new_sessions.take(self.limits.connections.address(sid)):
            return True
        await self._refuse(sid, "too many new chats from your address; please try again later")
        return False

    async def _confirmed(self, sid: str) -> Optional[str]:
        return (await self.sio.get_session(sid, namespace=NAMESPACE)).get("session_id")

    async def _join(self, sid: str, session_id: str) -> None:
        await self.sio.save_session(sid, {"session_id": session_id}, namespace=NAMESPACE)
        await self.sio.enter_room(sid, room(session_id), namespace=NAMESPACE)

    async def session_request(self, sid: str, data: Any = None) -> None:
        requested = data.get("session_id") if isinstance(data, dict) else None
        # A stored id continues its conversation; anything else gets a new one.
        if isinstance(requested, str) and _SESSION_ID.match(requested):
            session_id = requested
        elif await self._new_session_allowed(sid):
            session_id = uuid.uuid4().hex
        else:
            return
        await self._join(sid, session_id)
        await self.sio.emit("session_confirm", session_id, to=sid, namespace=NAMESPACE)

    async def _refuse(self, sid: str, error: str) -> Dict[str, Any]:
        logger.info("refused a widget message from %s: %s", sid, error)
        await self.sio.emit(
            "bot_uttered",
            {"text": f"Sorry, I couldn't take that message: {error}.", "metadata": {"from": "system", "error": True}},
            to=sid,
            namespace=NAMESPACE,
        )
        return {"ok": False, "error": error}

    async def user_uttered(self, sid: str, data: Any = None) -> Dict[str, Any]:
        if not isinstance(data, dict):
            return await self._refuse(sid, "a message must be an object with a 'message' field")
        session_id = await self._confirmed(sid)
        claimed = data.get("session_id")
        if session_id is None:
            # Widgets that skip session_request: the claimed id, or this socket's own.
            if isinstance(claimed, str) and _SESSION_ID.match(claimed):
                session_id = claimed
            elif await self._new_session_allowed(sid):
                session_id = uuid.uuid4().hex
            else:
                return {"ok": False, "error": "too many new chats"}
            await self._join(sid, session_id)
        elif claimed not in (None, "", session_id):
            return await self._refuse(sid, "the message names a different session")
        # Over either limit (this connection's or this session's, across its tabs), refused.
        if not (self.limits.messages_per_connection.take(sid) and self.limits.messages_per_session.take(session_id)):
            return await self._refuse(
                sid, "you are sending messages too quickly; please wait a moment and send it again"
            )
        try:
            accepted = await self.router.customer_message(
                "web", session_id, data.get("message"), data.get("message_id")
            )
        except MessageRejected as exc:
            return await self._refuse(sid, str(exc))
        return {"ok": True, "message_id": data.get("message_id"), "duplicate": accepted.duplicate}

    async def history_request(self, sid: str, data: Any = None) -> None:
        session_id = await self._confirmed(sid)
        if session_id is None:
            await self.sio.emit("history", {"messages": []}, to=sid, namespace=NAMESPACE)
            return
        if not self.limits.history.take(sid):
            await self.sio.emit(
                "history",
                {"messages": [], "error": "too many history requests; please wait a minute"},
                to=sid,
                namespace=NAMESPACE,
            )
            return
        await self.sio.emit("history", {"messages": await self._history(session_id)}, to=sid, namespace=NAMESPACE)

    async def _history(self, session_id: str) -> List[Dict[str, Any]]:
        async with session_scope(self.router.db_url) as session:
            kept = await store.session_messages(session, "web", session_id, limit=self.limits.history_limit)
            return await message_views.message_views(session, kept)

    async def resend_histories(self) -> None:
        """Each widget session with a socket on this process gets its history again, as after a
        reconnection (the widget shows it in place of what it had): what it missed live is in it."""
        rooms = [
            r for r in self.sio.manager.rooms.get(NAMESPACE, {}) if isinstance(r, str) and r.startswith("session:")
        ]
        for name in rooms:
            messages = await self._history(name.split(":", 1)[1])
            await self.sio.emit("history", {"messages": messages}, room=name, namespace=NAMESPACE, ignore_queue=True)
