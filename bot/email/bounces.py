"""Recognise bounces (delivery failure and delay reports) and say who failed, how and why. Pure.

A hard bounce must mark the address undeliverable and pause dunning for it, so
we need the failed recipient, the status and diagnostic, whether the failure is
hard (see ``bounce_reasons``), and the Message-ID of our message that bounced.

Read in this order, the first that finds failed recipients wins:

1. RFC 3464 delivery-status fields (in a message/delivery-status part, whatever
   the report-type says, or pasted as text by servers such as Amazon WorkMail): here;
2. Amazon SES bounce notifications (JSON): ``ses_notifications``;
3. the plain-text reports of qmail, Exim, Postfix, Sendmail, Exchange and the rest:
   ``bounce_text``.

Each recipient's reason comes from the server's words and status (``bounce_reasons``),
weighed against the SMTP command the refusal answered (``smtp_command``).

``certain`` is False only when the recipient was guessed from our returned
message: the caller then tells an agent but changes nothing.
"""

from __future__ import annotations

import email.message
import email.parser
import email.policy
import re
from typing import Dict, List, Optional, Union

from bot.email import report_text as rt
from bot.email import smtp_command
from bot.email.bounce_model import (
    Bounce,
    BouncedRecipient,
    one_line,
    original_message_id,
    specific_status,
    status_in,
    words_about,
)
from bot.email.bounce_reasons import reason_for, settle
from bot.email.bounce_text import bounce_from_text
from bot.email.parse import InboundEmail
from bot.email.ses_notifications import bounce_from_ses

__all__ = ["Bounce", "BouncedRecipient", "parse_bounce"]


def parse_bounce(message: Union[bytes, InboundEmail]) -> Optional[Bounce]:
    """The bounce in ``message``, or None when it is not one. Never raises."""
    raw = message.raw if isinstance(message, InboundEmail) else message
    if not isinstance(raw, (bytes, bytearray)) or not raw:
        return None
    try:
        msg = rt.message_from(bytes(raw))
        blocks = _dsn_blocks(msg)
        if blocks:  # delivery-status fields are authoritative: "delivered" there means no bounce
            return _from_dsn(msg, blocks)
        return bounce_from_ses(msg) or bounce_from_text(msg)
    except Exception:
        return None


def _from_dsn(msg, blocks: List[Dict[str, str]]) -> Optional[Bounce]:
    words = rt.server_words(msg)
    subject = str(msg.get("subject", ""))
    per_message = blocks[0] if not _recipient_of(blocks[0]) else {}
    recipients: List[BouncedRecipient] = []
    named = [a for a in (_recipient_of(f) for f in blocks) if a]
    for fields in blocks:
        address = _recipient_of(fields)
        if not address or address in {r.address for r in recipients}:
            continue
        action = fields.get("action", "").split("(")[0].strip().lower()
        diagnostic = fields.get("diagnostic-code") or None
        status = status_in(fields.get("status", ""))
        if action in ("delivered", "relayed", "expanded") or (status or "").startswith("2"):
            continue  # not a failure
        told = words_about(words, address, named)
        status = specific_status(status, status_in(diagnostic or told))
        about = " ".join(filter(None, [diagnostic, told, subject]))
        reason = reason_for(diagnostic or "", status) if diagnostic else "undefined"
        if reason == "undefined":
            reason = reason_for(about, status)
        reason = settle(
            reason,
            status=status,
            command=smtp_command.refused_at(told) or smtp_command.refused_at(words),
            remote_reply=smtp_command.quotes_reply(diagnostic or told),
        )
        if action not in ("failed", "delayed"):
            action = "delayed" if (status or "").startswith("4") or action.startswith("delay") else "failed"
        recipients.append(
            BouncedRecipient(
                address, action, status, one_line(diagnostic or words_about(words, address, named)), reason
            )
        )
    if not recipients:
        return None
    original = original_message_id(msg, blocks)
    return Bounce(
        recipients=recipients,
        original_message_id=original,
        certain=True,
        reporting_mta=_after_type(per_message.get("reporting-mta", "")) or None,
        source="dsn",
        problems=[] if original else ["bounce does not say which message bounced"],
    )


def _dsn_blocks(msg) -> List[Dict[str, str]]:
    for part in rt.walk(msg):
        if part.get_content_type() in ("message/delivery-status", "message/global-delivery-status"):
            payload = part.get_payload()
            if isinstance(payload, list) and payload and all(isinstance(p, email.message.Message) for p in payload):
                blocks = [_fields(block.items()) for block in payload if isinstance(block, email.message.Message)]
            else:
                blocks = _text_blocks(rt.part_text(part))
            if any(_recipient_of(b) for b in blocks):
                return blocks
    # DSN fields pasted into the text (Amazon WorkMail, some gateways).
    words = rt.plain_texts(msg)
    if re.search(r"(?im)^\s*final-recipient:", words):
        first = re.search(r"(?im)^\s*(reporting-mta|final-recipient|original-recipient|action):", words)
        assert first is not None  # final-recipient is one of them
        return _text_blocks(words[first.start() : first.start() + 20_000])
    return []


def _text_blocks(text: str) -> List[Dict[str, str]]:
    text = text.replace("\r\n", "\n").strip()
    parser = email.parser.HeaderParser(policy=email.policy.compat32)
    blocks = []
    for block in re.split(r"\n\s*\n", text):
        block = "\n".join(line.lstrip() if re.match(r"\s*[A-Za-z-]+:", line) else line for line in block.split("\n"))
        if block.strip():
            blocks.append(_fields(parser.parsestr(block.strip() + "\n").items()))
    return blocks


def _fields(items) -> Dict[str, str]:
    out: Dict[str, str] = {}
    for name, value in items:
        out.setdefault(name.strip().lower(), re.sub(r"\s+", " ", str(value)).strip())
    return out


def _recipient_of(fields: Dict[str, str]) -> Optional[str]:
    for name in ("final-recipient", "original-recipient", "x-actual-recipient"):
        found = rt.addresses_in(_after_type(fields.get(name, "")))
        if found:
            return found[0]
    return None


def _after_type(value: str) -> str:
    """ "rfc822; a@b.example" -> "a@b.example"."""
    value = value.split(";", 1)[1] if ";" in value else value
    return value.strip().strip("<>").strip()
