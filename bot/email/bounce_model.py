"""What a bounce says (failed recipients, status, reason, the message that bounced), and the small
readers shared by the three bounce readers (``bounces`` for RFC 3464 reports, ``bounce_text``
for plain-text reports, ``ses_notifications`` for Amazon SES). Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import List, Optional, Sequence

from bot.email import report_text as rt
from bot.email.bounce_reasons import is_hard

STATUS_RE = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")


@dataclass(frozen=True)
class BouncedRecipient:
    address: str  # lower-cased
    action: str  # "failed" or "delayed"
    status: Optional[str]  # e.g. "5.1.1"; None when the bounce gave none
    diagnostic: Optional[str]  # what the server said, one line
    reason: str = "undefined"  # see bounce_reasons (userunknown, mailboxfull, blocked...)

    @property
    def hard(self) -> bool:
        """The address itself is wrong: mark it undeliverable."""
        return self.action == "failed" and is_hard(self.reason, self.status)


@dataclass
class Bounce:
    recipients: List[BouncedRecipient]  # only failed or delayed ones; may be empty when none was named
    original_message_id: Optional[str]  # without <>: the message that bounced
    certain: bool  # False when the recipient was only guessed from our returned message
    reporting_mta: Optional[str] = None
    source: str = "dsn"  # dsn | ses | text
    problems: List[str] = field(default_factory=list)

    @property
    def hard(self) -> bool:
        return any(r.hard for r in self.recipients)

    @property
    def addresses(self) -> List[str]:
        return [r.address for r in self.recipients]


def status_in(value: str) -> Optional[str]:
    """The first enhanced status code (RFC 3463, e.g. "5.1.1") in ``value``."""
    match = STATUS_RE.search(value or "")
    return match.group(0) if match else None


def specific_status(status: Optional[str], remote: Optional[str]) -> Optional[str]:
    """The remote server's own status (in its diagnostic) when the report's is only a class (X.0.0)."""
    if remote and (status is None or status.endswith(".0.0")) and not remote.endswith(".0.0"):
        return remote
    return status


def original_message_id(msg, blocks=()) -> Optional[str]:
    returned = rt.returned_headers(msg)
    found = rt.first_id(returned.get("message-id")) if returned is not None else None
    for fields in blocks:  # some MTAs name it in the report
        found = found or rt.first_id(fields.get("original-message-id") or fields.get("x-original-message-id"))
    own = rt.first_id(msg.get("message-id"))
    return found if found and found != own else None


def words_about(words: str, address: str, others: Sequence[str] = ()) -> str:
    """The server's words about one recipient: from where it is named, up to where another failed
    recipient is named, at most 1000 characters."""
    lower = words.lower()
    start = lower.find(address)
    if start < 0:
        return ""
    end = min(len(words), start + len(address) + 1000)
    for other in others:
        if other != address and other not in address:
            at = lower.find(other, start + len(address))
            if 0 <= at < end:
                end = at
    return words[start:end]


def one_line(text: Optional[str]) -> Optional[str]:
    if not text:
        return None
    return re.sub(r"\s+", " ", text).strip()[:300] or None
