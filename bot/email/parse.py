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
import email.message
import email.policy
import email.utils
import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from bot.email import headers as hdr
from bot.email.charsets import decode_bytes
from bot.email.html_text import html_to_text

DEFAULT_MAX_TEXT_CHARS = 20_000
MAX_PARTS = 500  # a message with more MIME parts than this is read only in part

# Headers kept in ``InboundEmail.headers`` (lower-case names): what loop safety,
# bounce handling and replying need later.
KEPT_HEADERS = (
    "auto-submitted",
    "precedence",
    "list-id",
    "list-unsubscribe",
    "x-autoreply",
    "x-autorespond",
    "x-auto-response-suppress",
    "return-path",
    "reply-to",
    "sender",
    "x-failed-recipients",
    "content-type",
)

_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class Attachment:
    """An attachment, kept as metadata only (the raw message holds the bytes)."""

    filename: Optional[str]
    content_type: str
    size: int  # decoded size in bytes


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
    reply_to: List[str]
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


def parse(raw: bytes, *, max_text_chars: int = DEFAULT_MAX_TEXT_CHARS) -> InboundEmail:
    """Parse one message. Never raises; see ``InboundEmail.problems``."""
    raw = _as_bytes(raw)
    try:
        return _parse(raw, max_text_chars)
    except Exception as exc:  # last resort: keep the message readable for an agent
        text = raw.decode("utf-8", "replace")
        text, truncated = _cap(_clean_text(text), max_text_chars)
        problems = [f"unparseable message ({type(exc).__name__}); kept as raw text"]
        if truncated:
            problems.append(f"text truncated to {max_text_chars} characters")
        return InboundEmail(
            message_id=None, in_reply_to=None, references=[], from_address=None, from_name=None,
            to=[], cc=[], reply_to=[], subject="", date=None, text=text, text_source="raw",
            attachments=[], headers={}, content_type="", size=len(raw), problems=problems,
            truncated=truncated, raw=raw,
        )


def _as_bytes(raw) -> bytes:
    if isinstance(raw, (bytes, bytearray, memoryview)):
        return bytes(raw)
    if isinstance(raw, str):
        return raw.encode("utf-8", "surrogateescape")
    return b""


def _parse(raw: bytes, max_text_chars: int) -> InboundEmail:
    problems: List[str] = []
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)

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

    text, source, attachments = _body(msg, problems, max_text_chars)
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
        content_type=_content_type(msg),
        size=len(raw),
        problems=_dedupe(problems + _defects(msg)),
        truncated=truncated,
        raw=raw,
    )


# -- headers -----------------------------------------------------------------


def _content_type(part) -> str:
    try:
        return part.get_content_type().lower()
    except Exception:
        return "text/plain"


def _defects(msg) -> List[str]:
    notes = []
    try:
        for part in _leaves_and_containers(msg):
            for defect in getattr(part, "defects", []) or []:
                notes.append(f"broken MIME: {type(defect).__name__} in {_content_type(part)}")
    except Exception:
        notes.append("broken MIME structure")
    return notes[:20]


# -- body --------------------------------------------------------------------


def _leaves_and_containers(msg):
    """Every part, depth first, without recursion and without entering message/*."""
    stack = [msg]
    count = 0
    while stack and count < MAX_PARTS:
        part = stack.pop()
        count += 1
        yield part
        payload = part.get_payload()
        if isinstance(payload, list) and not _content_type(part).startswith("message/"):
            stack.extend(reversed([p for p in payload if isinstance(p, email.message.Message)]))


def _body(msg, problems: List[str], max_text_chars: int):
    plain: List[str] = []
    html: List[str] = []
    attachments: List[Attachment] = []
    raw_fallback = None
    for part in _leaves_and_containers(msg):
        ctype = _content_type(part)
        payload = part.get_payload()
        if isinstance(payload, list) and not ctype.startswith("message/"):
            continue  # a container; its children follow
        if ctype.startswith("multipart/"):
            # Boundary missing or wrong: the parser left the whole body as text.
            problems.append(f"broken MIME: {ctype} without its parts (boundary not found)")
            raw_fallback = payload if isinstance(payload, str) else ""
            continue
        filename = _filename(part, problems)
        disposition = (part.get("content-disposition") or "").split(";")[0].strip().lower()
        is_body = ctype in ("text/plain", "text/html") and disposition != "attachment" and filename is None
        if not is_body:
            attachments.append(Attachment(filename, ctype, _size(part)))
            continue
        text = _part_text(part, problems)
        (plain if ctype == "text/plain" else html).append(text)
    if len(attachments) > 200:
        problems.append(f"{len(attachments)} attachments; metadata kept for the first 200")
        attachments = attachments[:200]

    if any(t.strip() for t in plain):
        return _clean_text("\n\n".join(t.strip("\n") for t in plain)), "plain", attachments
    if any(t.strip() for t in html):
        limit = max(200_000, 10 * max_text_chars)
        joined = "\n".join(html)
        if len(joined) > limit:
            joined = joined[:limit]
        return _clean_text(html_to_text(joined)), "html", attachments
    if raw_fallback:
        return _clean_text(raw_fallback), "raw", attachments
    return "", "none", attachments


def _part_text(part, problems: List[str]) -> str:
    try:
        data = part.get_payload(decode=True)
    except Exception:
        problems.append("undecodable body transfer encoding")
        data = None
    if data is None:
        payload = part.get_payload()
        return payload if isinstance(payload, str) else ""
    try:
        charset = part.get_param("charset")
        if isinstance(charset, tuple):  # RFC 2231 form
            charset = email.utils.collapse_rfc2231_value(charset)
    except Exception:
        charset = None
    return decode_bytes(data, str(charset) if charset else None, "body", problems)


def _filename(part, problems: List[str]) -> Optional[str]:
    try:
        name = part.get_filename() or part.get_param("name")
        if isinstance(name, tuple):
            name = email.utils.collapse_rfc2231_value(name)
    except Exception:
        return None
    if not name:
        return None
    name = hdr.decode_words(str(name), "attachment filename", problems)
    name = name.replace("\\", "/").rsplit("/", 1)[-1].strip()[:255]
    return name or None


def _size(part) -> int:
    try:
        payload = part.get_payload()
        if isinstance(payload, list):  # message/rfc822
            return sum(len(p.as_bytes()) for p in payload if isinstance(p, email.message.Message))
        data = part.get_payload(decode=True)
        return len(data) if data is not None else len(payload or "")
    except Exception:
        return 0


def _clean_text(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL_RE.sub("", text)
    text = re.sub(r"[ \t]+\n", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


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
