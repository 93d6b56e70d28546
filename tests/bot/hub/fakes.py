"""Stand-ins for unit tests of the router: a scripted Rasa and a recording delivery.
(The real Rasa server and sockets are used in tests/e2e and tests/bot/hub/test_app.py.)"""

from __future__ import annotations

import datetime as dt
from typing import Any, Callable, Dict, List, Optional, Tuple

from bot.hub.rasa_client import RasaUnavailable


class ScriptedRasa:
    """Answers each message with ``reply(text)``; ``down`` makes it unreachable."""

    def __init__(self, reply: Optional[Callable[[str], List[Dict[str, Any]]]] = None) -> None:
        self.reply = reply or (lambda text: [{"text": f"bot: {text}"}])
        self.down = False
        self.received: List[Tuple[str, str, Dict[str, Any]]] = []
        self.events: List[Tuple[str, str]] = []

    async def send(self, sender_id: str, text: str, metadata: Dict[str, Any]) -> List[Dict[str, Any]]:
        if self.down:
            raise RasaUnavailable("connection refused")
        self.received.append((sender_id, text, metadata))
        return self.reply(text)

    async def replies_to(self, sender_id: str, hub_message_id: int) -> Optional[List[Dict[str, Any]]]:
        if self.down:
            raise RasaUnavailable("connection refused")
        for sender, text, metadata in self.received:
            if sender == sender_id and metadata.get("hub_message_id") == hub_message_id:
                return self.reply(text)
        return None

    async def resume(self, sender_id: str) -> None:
        if self.down:
            raise RasaUnavailable("connection refused")
        self.events.append((sender_id, "resume"))

    async def pause(self, sender_id: str) -> None:
        self.events.append((sender_id, "pause"))

    async def healthy(self) -> bool:
        return not self.down

    async def close(self) -> None:
        pass


class RecordingDelivery:
    def __init__(self) -> None:
        self.customer: List[Tuple[str, Dict[str, Any]]] = []
        self.agents: List[Tuple[str, Dict[str, Any]]] = []
        self.typing_events: List[Tuple[str, bool, str]] = []

    async def to_customer(self, conversation, message: Dict[str, Any]) -> None:
        self.customer.append((conversation.public_id, message))

    async def typing(self, conversation, active: bool, who: str) -> None:
        self.typing_events.append((conversation.public_id, active, who))

    async def to_agents(self, event: str, data: Dict[str, Any]) -> None:
        self.agents.append((event, data))

    def texts(self, sender: Optional[str] = None) -> List[str]:
        return [m["text"] for _, m in self.customer if sender is None or m["from"] == sender]


class Clock:
    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


def handoff_reply(reason: str = "anger", priority: int = 1) -> List[Dict[str, Any]]:
    """What Rasa's REST channel returns when action_handoff runs."""
    return [
        {"recipient_id": "x", "text": "I'm sorry this has been so frustrating. I'm bringing in a person."},
        {"recipient_id": "x", "custom": {"handoff": {"reason": reason, "priority": priority, "verified": False,
                                                      "sentiment_trail": [{"label": "negative", "score": 0.97}]}}},
    ]
