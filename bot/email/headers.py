"""Reading header fields from untrusted mail: decoded (RFC 2047), on one line,
free of CR/LF/NUL so nothing taken from a message can inject a header later.
Never raises; what could not be read is appended to ``problems``."""

from __future__ import annotations

import datetime as dt
import email.message
import email.utils
import re
from email.header import decode_header
from typing import List, Optional, Tuple

from bot.email.charsets import decode_bytes

_MSGID_RE = re.compile(r"<([^<>\s]{1,500})>")
_ADDR_RE = re.compile(r"^[^@\s<>()\[\],;:\"\\]{1,128}@[A-Za-z0-9.\-\[\]:_]{1,255}$")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_HEADER_SPACE_RE = re.compile(r"[\r\n\t ]+")


def header(msg: email.message.Message, name: str, problems: List[str]) -> Optional[str]:
    """The first ``name`` header, RFC 2047-decoded, on one line; None when absent."""
    try:
        value = msg.get(name)
    except Exception:
        problems.append(f"unreadable {name} header")
        return None
    if value is None:
        return None
    return decode_words(value, name, problems)


def decode_words(value, name: str, problems: List[str]) -> str:
    try:
        chunks = decode_header(value)
    except Exception:
        chunks = [(str(value), None)]
    out = []
    for chunk, charset in chunks:
        if isinstance(chunk, bytes):
            out.append(decode_bytes(chunk, charset, f"{name} header", problems))
        else:
            out.append(chunk)
    # Python keeps the whitespace around encoded words in the chunks themselves.
    return one_line("".join(out))


def one_line(text: str) -> str:
    return _CONTROL_RE.sub("", _HEADER_SPACE_RE.sub(" ", text)).strip()


def first_msgid(value: Optional[str]) -> Optional[str]:
    ids = all_msgids(value)
    return ids[0] if ids else None


def all_msgids(value: Optional[str]) -> List[str]:
    if not value:
        return []
    found = _MSGID_RE.findall(value)
    if found:
        return found
    # Some mailers omit the angle brackets: accept one bare token that looks like an id.
    tokens = [t for t in value.split() if "@" in t and len(t) <= 500 and not set(t) & set('<>"()')]
    return tokens


_LOOSE_ADDR_RE = re.compile(r"[^\s<>()\[\],;:\"\\@]{1,128}@[A-Za-z0-9.\-]{1,255}\.[A-Za-z]{2,63}")


def sender(msg, problems: List[str]) -> Tuple[Optional[str], Optional[str]]:
    """Who wrote: From, read leniently (``Big Bug bb@bug.com`` without angle brackets, encoded
    words); when From has no usable address, Sender, then Reply-To. (None, None) when none has one."""
    for name in ("from", "sender", "reply-to"):
        found = _first_address(msg, name, problems)
        if found is not None:
            if name != "from":
                problems.append(f"no usable From address; using {name.title()}")
            return found
        if name == "from":
            try:
                present = bool(msg.get_all("from"))
            except Exception:
                present = False
            problems.append("unusable From address" if present else "missing From")
    return None, None


def _first_address(msg, name: str, problems: List[str]) -> Optional[Tuple[str, Optional[str]]]:
    try:
        values = [str(v) for v in (msg.get_all(name) or [])]
    except Exception:
        values = []
    if not values:
        return None
    good = [(display, addr) for display, addr in getaddresses(values) if valid_addr(addr)]
    if not good:
        good = _loose_addresses(values, name, problems)
    if not good:
        return None
    if len(good) > 1 and name == "from":
        problems.append("more than one From address; using the first")
    display, addr = good[0]
    display = decode_words(display, f"{name} name", problems) if display else ""
    return addr.lower(), (display.strip('" ') or None)


def _loose_addresses(values: List[str], name: str, problems: List[str]) -> List[Tuple[str, str]]:
    """An address written without angle brackets ("Big Bug bb@bug.com"): the words around it are the name."""
    text = decode_words(" ".join(values), name, problems)
    match = _LOOSE_ADDR_RE.search(text)
    if not match or not valid_addr(match.group(0)):
        return []
    display = (text[: match.start()] + " " + text[match.end() :]).strip(" <>()\"'")
    return [(re.sub(r"\s+", " ", display), match.group(0))]


def addresses(msg, name: str, problems: List[str]) -> List[str]:
    try:
        values = msg.get_all(name) or []
    except Exception:
        return []
    out = []
    for _, addr in getaddresses([str(v) for v in values]):
        addr = addr.lower()
        if valid_addr(addr) and addr not in out:
            out.append(addr)
    return out[:100]


def getaddresses(values: List[str]) -> List[Tuple[str, str]]:
    try:
        return email.utils.getaddresses([_HEADER_SPACE_RE.sub(" ", v) for v in values])
    except Exception:
        return []


def valid_addr(addr: str) -> bool:
    return bool(addr) and _ADDR_RE.match(addr) is not None


def date(text: str) -> Optional[dt.datetime]:
    try:
        value = email.utils.parsedate_to_datetime(text)
    except Exception:
        return None
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value


# Headers whose mere presence marks automatic mail (any value, even empty): autoresponders,
# list servers (many send no List-Id), challenge-response systems.
AUTOMATIC_PRESENCE_HEADERS = (
    "list-id",
    "list-unsubscribe",
    "x-autoreply",
    "x-autorespond",
    "x-auto-response-suppress",
    "x-autoreply-from",
    "x-autogenerated",
    "x-auto-reply",
    "x-autoresponder",
    "x-mail-autoreply",
    "x-failed-recipients",
    "x-cron-env",
    "list-post",
    "list-help",
    "list-subscribe",
    "list-owner",
    "list-archive",
    "mailing-list",
    "x-mailing-list",
    "x-ml-name",
    "x-mailman-version",
    "x-beenthere",
    "x-list",
    "x-listserver",
    "x-sympa-to",
    "x-ezmlm-id",
    "x-google-group-id",
    "x-campaign",
    "x-mailchimp-id",
    "x-challenge",
    "x-tmda",
    "x-boxbe-challenge",
    "x-askversion",
    "x-spam-arrest",
    "x-ms-exchange-generated-message-source",
    "x-ms-exchange-inbox-rules-loop",
)
