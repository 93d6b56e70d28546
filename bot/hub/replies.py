"""Turns Rasa's REST replies into what the hub stores and shows.

Pure. Rasa's REST channel returns ``{"text", "buttons", "image", "custom"}``
items; the widget speaks the socketio channel's shapes (``quick_replies``,
``attachment``). Custom payloads carrying ``handoff`` or ``verified`` are
instructions for the hub, never shown to the customer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional


@dataclass
class BotTurn:
    messages: List[Dict[str, Any]] = field(default_factory=list)  # {"text", "payload"}
    handoff: Optional[Dict[str, Any]] = None
    verified: Optional[Dict[str, Any]] = None


def read_replies(replies: List[Dict[str, Any]]) -> BotTurn:
    turn = BotTurn()
    for reply in replies:
        if not isinstance(reply, dict):
            continue
        custom = reply.get("custom")
        if isinstance(custom, dict) and ("handoff" in custom or "verified" in custom):
            if isinstance(custom.get("handoff"), dict):
                turn.handoff = custom["handoff"]
            if isinstance(custom.get("verified"), dict):
                turn.verified = custom["verified"]
            continue
        payload: Dict[str, Any] = {}
        buttons = reply.get("buttons") or []
        if buttons:
            payload["quick_replies"] = [
                {"content_type": "text", "title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
                for b in buttons
                if isinstance(b, dict)
            ]
        if reply.get("image"):
            payload["attachment"] = {"type": "image", "payload": {"src": str(reply["image"])}}
        if isinstance(custom, dict):
            payload["custom"] = custom
        text = reply.get("text") or ""
        if text or payload:
            turn.messages.append({"text": str(text), "payload": payload or None})
    return turn


def socket_message(text: str, payload: Optional[Dict[str, Any]], metadata: Dict[str, Any]) -> Dict[str, Any]:
    """The ``bot_uttered`` body for a stored message, as Rasa's socketio channel shapes it."""
    body: Dict[str, Any] = {}
    if text:
        body["text"] = text
    payload = payload or {}
    if payload.get("quick_replies"):
        body["quick_replies"] = payload["quick_replies"]
    if payload.get("attachment"):
        body["attachment"] = payload["attachment"]
    if payload.get("custom"):
        body.update({k: v for k, v in payload["custom"].items() if k not in body})
    body["metadata"] = metadata
    return body
