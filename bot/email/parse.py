"""Inbound email parsing: raw RFC 5322 bytes in, one plain ``InboundEmail`` out.

Pure (no I/O) and total: ``parse`` never raises, whatever the bytes. Mail from
the internet is routinely malformed (missing Message-ID, wrong or unknown
charsets, broken MIME boundaries, truncated bodies), and one bad message must
never stop the inbox. Whatever could not be read cleanly is described in
``problems`` so the caller can log it and keep the message for an agent.

Every string that comes out is free of CR, LF (except in ``text``) and NUL, so
nothing taken from a message can inject a header later, and PostgreSQL (which
rejects NUL in text) can store it.

Parsing uses the stdlib ``email`` package with the lenient compat32 policy (the
modern policy raises on some malformed headers); headers are decoded here.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from bot.email import headers as hdr
from bot.email.body import MAX_PARTS, Attachment, clean_text, content_type, parts, read_body
from bot.email.html_text import html_to_text

__all__ = ["MAX_PARTS", "Attachment", "InboundEmail", "html_to_text", "parse"]

DEFAULT_MAX_TEXT_CHARS = 20_000

# Headers kept in ``InboundEmail.headers`` (lower-case names): what loop safety,
# bounce handling and replying need later.
KEPT_HEADERS = (
    "auto-submitted",
    "precedence",
    "return-path",
    "reply-to",
    "sender",
    "content-type",
    # More signs of automatic mail (see loop_safety), beside the ones whose presence alone says it.
    "x-post-messageclass",
    "x-precedence",
    "x-loop",
    "x-mailer",
    *hdr.AUTOMATIC_PRESENCE_HEADERS,
)


@dataclass
class InboundEmail:
    """What the product needs from one inbound message."""

    message_id: Optional[str]  # without <>; None when missing or unusable
    in_reply_to: Optional[str]  # without <>
    references: List[str]  # without <>, oldest first
    from_address: Optional[str]  # lower-cased addr-spec; None when unusable
    from_name: Optional[str]
    to: List[str]  # lower-cased addr-specs
    cc: List[str]
    reply_to: List[str]  # where the sender wants answers, when not the From address
    subject: str
    date: Optional[dt.datetime]  # timezone-aware (UTC when the header said -0000)
    text: str  # the body as plain text, capped at max_text_chars
    text_source: str  # "plain", "html", "none" or "raw" (unparseable MIME)
    attachments: List[Attachment]
    headers: Dict[str, str]  # KEPT_HEADERS that were present, lower-case names
    content_type: str  # of the whole message, e.g. "multipart/report"
    size: int  # len(raw)
    problems: List[str] = field(default_factory=list)
    truncated: bool = False
    raw: bytes = field(default=b"", repr=False, compare=False)
    header_names: List[str] = field(default_factory=list)  # every header field's name, lower-case

    @property
    def reply_address(self) -> Optional[str]:
        """Where an answer goes: the first Reply-To address, else the sender."""
        return self.reply_to[0] if self.reply_to else self.from_address


def parse(raw: bytes, *, max_text_chars: int = DEFAULT_MAX_TEXT_CHARS) -> InboundEmail:
    """Parse one message. Never raises; see ``InboundEmail.problems``."""
    raw = _as_bytes(raw)
    try:
        return _parse(raw, max_text_chars)
    except Exception as exc:  # last resort: keep the message readable for an agent
        text = raw.decode("utf-8", "replace")
        text, truncated = _cap(clean_text(text), max_text_chars)
        problems = [f"unparseable message ({type(exc).__name__}); kept as raw text"]
        if truncated:
            problems.append(f"text truncated to {max_text_chars} characters")
        return InboundEmail(
            message_id=None,
            in_reply_to=None,
            references=[],
            from_address=None,
            from_name=None,
            to=[],
            cc=[],
            reply_to=[],
            subject="",
            date=None,
            text=text,
            text_source="raw",
            attachments=[],
            headers={},
            content_type="",
            size=len(raw),
            problems=problems,
            truncated=truncated,
            raw=raw,
        )


def _as_bytes(raw) -> bytes:
    if isinstance(raw, (bytes, bytearray, memoryview)):
        return bytes(raw)
    if isinstance(raw, str):
        return raw.encode("utf-8", "surrogateescape")
    return b""


def _parse(raw: bytes, max_text_chars: int) -> InboundEmail:
    problems: List[str] = []
    lenient = re.sub(rb"\A(?:[ \t]*\r?\n)+", b"", raw, count=1)
    if lenient != raw:
        # Blank lines before the headers would make the parser see none at all.
        problems.append("blank lines before the headers")
    msg = email.message_from_bytes(lenient, policy=email.policy.compat32)

    message_id = hdr.first_msgid(hdr.header(msg, "message-id", problems))
    if message_id is None:
        problems.append("missing Message-ID" if msg.get("message-id") is None else "unusable Message-ID")
    in_reply_to = hdr.first_msgid(hdr.header(msg, "in-reply-to", problems))
    references = hdr.all_msgids(hdr.header(msg, "references", problems))[-100:]

    from_address, from_name = hdr.sender(msg, problems)
    headers = {}
    for name in KEPT_HEADERS:
        value = hdr.header(msg, name, problems)
        if value is not None:
            headers[name] = value

    date = None
    date_text = hdr.header(msg, "date", problems)
    if date_text:
        date = hdr.date(date_text)
        if date is None:
            problems.append("unparseable Date header")

    text, source, attachments = read_body(msg, problems, max_text_chars)
    text, truncated = _cap(text, max_text_chars)
    if truncated:
        problems.append(f"text truncated to {max_text_chars} characters")

    return InboundEmail(
        message_id=message_id,
        in_reply_to=in_reply_to,
        references=references,
        from_address=from_address,
        from_name=from_name,
        to=hdr.addresses(msg, "to", problems),
        cc=hdr.addresses(msg, "cc", problems),
        reply_to=hdr.addresses(msg, "reply-to", problems),
        subject=hdr.header(msg, "subject", problems) or "",
        date=date,
        text=text,
        text_source=source,
        attachments=attachments,
        headers=headers,
        content_type=content_type(msg),
        size=len(raw),
        problems=_dedupe(problems + _defects(msg)),
        truncated=truncated,
        raw=raw,
        header_names=_header_names(msg),
    )


# -- headers -----------------------------------------------------------------


def _header_names(msg) -> List[str]:
    try:
        return list(dict.fromkeys(hdr.one_line(str(name)).lower()[:80] for name in msg))[:200]
    except Exception:
        return []


def _defects(msg) -> List[str]:
    notes = []
    try:
        for part in parts(msg):
            for defect in getattr(part, "defects", []) or []:
                notes.append(f"broken MIME: {type(defect).__name__} in {content_type(part)}")
    except Exception:
        notes.append("broken MIME structure")
    return notes[:20]


def _cap(text: str, limit: int) -> Tuple[str, bool]:
    if limit is not None and limit >= 0 and len(text) > limit:
        return text[:limit], True
    return text, False


def _dedupe(items: List[str]) -> List[str]:
    seen, out = set(), []
    for item in items:
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out
