"""What every channel needs to hand a customer's message in: the text rules, the
errors, the ordering key, and the router's interface (so a channel depends on this
package, not on the hub that implements it)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, Optional, Protocol

from bot.conversations.lifecycle import Lifecycle
from bot.conversations.models import Conversation

_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class MessageRejected(ValueError):
    """A message the hub refuses (empty, too long); nothing was stored."""


class ConversationNotFound(LookupError):
    pass


class Conflict(Exception):
    """The action does not fit the conversation's current state (someone else acted first)."""


@dataclass
class Accepted:
    conversation_id: str
    message_id: int
    duplicate: bool


def conversation_key(channel: str, session_key: str) -> str:
    """What orders work: one chain per widget session or email thread."""
    return f"{channel}:{session_key}"


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def clean_text(raw: Any, limit: int) -> str:
    """Validates a message's text: plain string, not empty, not over the limit."""
    if not isinstance(raw, str):
        raise MessageRejected("a message must be text")
    text = _CONTROL_CHARS.sub("", raw).strip()
    if not text:
        raise MessageRejected("the message is empty")
    if len(text) > limit:
        raise MessageRejected(f"the message is too long ({len(text)} characters; the limit is {limit})")
    return text


class Intake(Protocol):
    """The router as a channel sees it (bot.hub.routing.Router implements it)."""

    db_url: str
    lifecycle: Lifecycle

    async def customer_message(
        self, channel: str, session_key: str, raw_text: Any, client_message_id: Optional[str] = None
    ) -> Accepted: ...

    def busy(self, conversation: Conversation) -> bool: ...
