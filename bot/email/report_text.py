"""The parts of a machine-written report (a bounce, a feedback report) that the
recognisers read. Pure; shared by ``bounces`` and ``feedback_reports``.

A report is the server's own words followed by a copy of our message (as a
message/rfc822 part, text/rfc822-headers, or pasted under a line such as
"--- Below this line is a copy of the message."). The recognisers must read the
failed recipient from the server's words, never from our quoted message, so
this module keeps the two apart.
"""

from __future__ import annotations

import email
import email.message
import email.parser
import email.policy
import email.utils
import re
from typing import Iterator, List, Optional

from bot.email.charsets import decode_bytes
from bot.email.html_text import html_to_text

MAX_PARTS = 200
MAX_TEXT = 200_000

ADDRESS_RE = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~\-]{1,128}@[A-Za-z0-9\-]{1,63}(?:\.[A-Za-z0-9\-]{1,63})*\.[A-Za-z]{2,63}"
)
MSGID_RE = re.compile(r"<([^<>\s]{1,500})>")
# Lines after which a server pastes our original message.
_RETURNED_MARKER = re.compile(
    r"(?im)^[ \t>]*(?:"
    r"(?:[-=_*]{2,}[ \t]*)?(?:below this line is a copy of the message|this is a copy of the message"
    r"|a copy of the original message|original message (?:headers? )?follows|original message headers"
    r"|message headers follow|(?:the )?(?:header|headers|text|body) of (?:the )?original message|unsent message below"
    r"|headers of the original|your message reads|message text follows|content-type: message/rfc822"
    r"|content-type: text/rfc822-headers)"
    r"|[-=_*]{2,}[ \t]*(?:original|returned|undelivered|unsent) message"
    r")"
)
_HEADER_LINE = re.compile(
    r"^(return-path|received|message-id|from|to|subject|date|mime-version|x-[\w-]+|dkim-signature"
    r"|content-type|delivered-to):[ \t]",
    re.IGNORECASE,
)


def lenient_bytes(raw: bytes) -> bytes:
    """Drops blank lines before the first header (some gateways add them; the parser would see no headers)."""
    return re.sub(rb"\A(?:[ \t]*\r?\n)+", b"", raw, count=1)


def message_from(raw: bytes) -> email.message.Message:
    return email.message_from_bytes(lenient_bytes(raw), policy=email.policy.compat32)


def walk(msg: email.message.Message, into_messages: bool = False) -> Iterator[email.message.Message]:
    """Every part, depth first, without recursion; message/* parts are entered only when asked."""
    stack, count = [msg], 0
    while stack and count < MAX_PARTS:
        part = stack.pop()
        count += 1
        yield part
        payload = part.get_payload()
        if not isinstance(payload, list):
            continue
        if part.get_content_maintype() == "message" and not into_messages:
            continue
        stack.extend(reversed([p for p in payload if isinstance(p, email.message.Message)]))


def part_text(part: email.message.Message) -> str:
    try:
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    if not isinstance(data, bytes):  # None: decode=True gives a leaf part's bytes, nothing for a multipart
        payload = part.get_payload()
        return payload if isinstance(payload, str) else ""
    try:
        charset = part.get_content_charset()
    except Exception:
        charset = None
    return decode_bytes(data, charset, "report", [])


def server_words(msg: email.message.Message) -> str:
    """The report's own text: text parts outside any returned message, cut before a pasted copy."""
    plain: List[str] = []
    html: List[str] = []
    for part in walk(msg):
        ctype = part.get_content_type()
        if ctype == "text/plain" or (ctype.startswith("text/") and ctype not in ("text/html", "text/rfc822-headers")):
            plain.append(part_text(part))
        elif ctype == "text/html":
            html.append(part_text(part))
        elif (body := unsplit_body(part)) is not None:
            plain.append(body)
    text = "\n".join(plain) if any(t.strip() for t in plain) else html_to_text("\n".join(html)) if html else ""
    text = text.replace("\r\n", "\n")[:MAX_TEXT]
    return _before_returned_copy(text)


def unsplit_body(part: email.message.Message) -> Optional[str]:
    """The body of a multipart whose boundary was not found (the parser left it whole, as one
    string); None for any other part."""
    payload = part.get_payload()
    return payload if part.get_content_maintype() == "multipart" and isinstance(payload, str) else None


def unsplit_multipart(part: email.message.Message) -> bool:
    """A multipart whose boundary was not found: the parser left its whole body as one string."""
    return unsplit_body(part) is not None


def plain_texts(msg: email.message.Message) -> str:
    """Every text/plain part, and the raw body of any multipart the parser could not split."""
    texts: List[str] = []
    for part in walk(msg):
        body = unsplit_body(part)
        if body is not None:
            texts.append(body)
        elif part.get_content_type() == "text/plain":
            texts.append(part_text(part))
    return "\n".join(texts)[:MAX_TEXT]


def _before_returned_copy(text: str) -> str:
    marker = _RETURNED_MARKER.search(text)
    end = marker.start() if marker else len(text)
    lines, offset = text[:end].split("\n"), 0
    # A pasted header block without a marker: three header lines in a row.
    for index, line in enumerate(lines):
        if (
            _HEADER_LINE.match(line)
            and all(_HEADER_LINE.match(nxt) or nxt[:1] in (" ", "\t") for nxt in lines[index + 1 : index + 3])
            and len(lines) > index + 2
        ):
            return text[:offset]
        offset += len(line) + 1
    return text[:end]


def returned_copy_text(text_and_more: str) -> str:
    """What follows the first "copy of your message" marker (empty without one)."""
    marker = _RETURNED_MARKER.search(text_and_more)
    return text_and_more[marker.end() :] if marker else ""


def returned_headers(msg: email.message.Message) -> Optional[email.message.Message]:
    """The headers of our message as the report returned it (a part, or text after a marker)."""
    for part in walk(msg):
        ctype = part.get_content_type()
        if ctype in ("message/rfc822", "message/global", "message/partial"):
            inner = part.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], email.message.Message):
                return inner[0]
            if isinstance(inner, str) and inner.strip():
                return email.parser.HeaderParser(policy=email.policy.compat32).parsestr(inner.lstrip())
        elif ctype in ("text/rfc822-headers", "message/global-headers"):
            return email.parser.HeaderParser(policy=email.policy.compat32).parsestr(part_text(part).lstrip())
    copy = returned_copy_text(plain_texts(msg).replace("\r\n", "\n"))
    if not copy:
        return None
    lines = copy.split("\n")
    while lines and not _HEADER_LINE.match(lines[0].lstrip()):
        lines.pop(0)
        if len(lines) < 1:
            return None
    if not lines:
        return None
    block = "\n".join(line.lstrip() if _HEADER_LINE.match(line.lstrip()) else line for line in lines)
    return email.parser.HeaderParser(policy=email.policy.compat32).parsestr(block)


def addresses_in(value) -> List[str]:
    return [a.lower() for a in ADDRESS_RE.findall(str(value or ""))]


def header_addresses(msg: Optional[email.message.Message], *names: str) -> List[str]:
    if msg is None:
        return []
    found: List[str] = []
    for name in names:
        for value in msg.get_all(name, []) or []:
            for _, addr in email.utils.getaddresses([re.sub(r"\s+", " ", str(value))]):
                addr = addr.lower()
                if ADDRESS_RE.fullmatch(addr) and addr not in found:
                    found.append(addr)
    return found


def first_id(value) -> Optional[str]:
    if not value:
        return None
    match = MSGID_RE.search(str(value))
    return match.group(1) if match else None
