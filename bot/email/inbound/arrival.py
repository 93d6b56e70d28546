"""One inbound message on its way through the filters, and what became of it."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Optional

from bot.config import Settings
from bot.conversations.lifecycle import Lifecycle
from bot.conversations.models import Conversation
from bot.email.parse import InboundEmail


@dataclass
class Outcome:
    """What happened to one inbound email (for logs and tests)."""

    message_id: str
    action: str  # routed | duplicate | automatic | bounce | feedback_report | held
    conversation_id: Optional[str] = None
    detail: str = ""


@dataclass
class Arrival:
    raw: bytes
    mail: InboundEmail
    message_id: str  # the key it is stored under (see stable_message_id)
    settings: Settings
    now: dt.datetime
    # Set by the filters as the message goes through:
    seen_before: bool = False  # stored by an earlier pass (a crash before it was marked processed)
    automatic_reason: Optional[str] = None  # why it gets no automatic reply (loop_safety)
    conversation: Optional[Conversation] = None
    # Status changes (alerts for agents) go through it; the hub's router subscribes the consoles.
    lifecycle: Lifecycle = field(default_factory=Lifecycle)


def stable_message_id(mail: InboundEmail, raw: bytes) -> str:
    if mail.message_id:
        return mail.message_id[:255]
    # No Message-ID: the same bytes always get the same key, so they still dedupe.
    return f"missing.{hashlib.sha256(raw).hexdigest()[:40]}@inbound.invalid"
