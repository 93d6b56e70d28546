"""The readable text and the attachments of a parsed message: which parts are the body (plain
text preferred, else HTML made text, else what a broken MIME structure left), decoded with
their charsets; attachments kept as metadata only. Pure and total, like ``parse``."""

from __future__ import annotations

import email.message
import email.utils
import re
from dataclasses import dataclass
from typing import List, Optional

from bot.email import headers as hdr
from bot.email.charsets import decode_bytes
from bot.email.html_text import html_to_text

MAX_PARTS = 500  # a message with more MIME parts than this is read only in part

_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class Attachment:
    """An attachment, kept as metadata only (the raw message holds the bytes)."""

    filename: Optional[str]
    content_type: str
    size: int  # decoded size in bytes


def content_type(part) -> str:
    try:
        return part.get_content_type().lower()
    except Exception:
        return "text/plain"


def parts(msg):
    """Every part, depth first, without recursion and without entering message/*."""
    stack = [msg]
    count = 0
    while stack and count < MAX_PARTS:
        part = stack.pop()
        count += 1
        yield part
        payload = part.get_payload()
        if isinstance(payload, list) and not content_type(part).startswith("message/"):
            stack.extend(reversed([p for p in payload if isinstance(p, email.message.Message)]))


def read_body(msg, problems: List[str], max_text_chars: int):
    """(text, source: plain | html | raw | none, attachments)."""
    plain: List[str] = []
    html: List[str] = []
    attachments: List[Attachment] = []
    raw_fallback = None
    for part in parts(msg):
        ctype = content_type(part)
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
        return clean_text("\n\n".join(t.strip("\n") for t in plain)), "plain", attachments
    if any(t.strip() for t in html):
        limit = max(200_000, 10 * max_text_chars)
        joined = "\n".join(html)
        if len(joined) > limit:
            joined = joined[:limit]
        return clean_text(html_to_text(joined)), "html", attachments
    if raw_fallback:
        return clean_text(raw_fallback), "raw", attachments
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


def clean_text(text: str) -> str:
    """Line endings unified, control characters and trailing blanks dropped, at most one blank line."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL_RE.sub("", text)
    text = re.sub(r"[ \t]+\n", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()
