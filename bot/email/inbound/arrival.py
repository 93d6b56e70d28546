"""One inbound message on its way through the filters, and what became of it."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from typing import Optional, Sequence

from bot.config import Settings
from bot.conversations.lifecycle import Lifecycle
from bot.conversations.models import Conversation
from bot.email import models
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

    def record(
        self,
        conversation_id: Optional[int],
        automatic_reason: Optional[str],
        more_problems: Sequence[str] = (),
        with_attachments: bool = False,
    ) -> models.InboundEmail:
        """The row that keeps this message (the caller adds it), cut to the columns' lengths."""
        mail = self.mail
        attachments = with_attachments and mail.attachments
        return models.InboundEmail(
            message_id=self.message_id,
            conversation_id=conversation_id,
            from_address=(mail.from_address or "")[:254],
            subject=(mail.subject or "")[:255],
            automatic_reason=automatic_reason[:64] if automatic_reason else None,
            problems="\n".join([*mail.problems, *more_problems])[:4000] or None,
            attachments=json.dumps([vars(a) for a in mail.attachments]) if attachments else None,
            received_at=self.now,
        )


def stable_message_id(mail: InboundEmail, raw: bytes) -> str:
    if mail.message_id:
        return mail.message_id[:255]
    # No Message-ID: the same bytes always get the same key, so they still dedupe.
    return f"missing.{hashlib.sha256(raw).hexdigest()[:40]}@inbound.invalid"
