"""Recognise delivery status notifications (bounces) and say which message bounced.

Pure. A hard bounce must mark the address undeliverable and pause dunning for
it (issue 4, part 6), so we need the failed recipient, how final the failure
is, and the Message-ID of our message that bounced, to find its conversation.

Standard DSNs (RFC 3464: multipart/report; report-type=delivery-status) are
read field by field and are ``certain``. Old-style plain-text bounces (a
mailer-daemon sender, "The following address(es) failed:", X-Failed-Recipients)
are recognised minimally and marked ``certain=False``: the caller should not
take irreversible action on them without an agent looking.

Hard or soft follows the status code: 5.x.x is hard (permanent), 4.x.x soft
(temporary, even when the action is "failed" after retries ran out: the address
itself may be fine). Without a status code, action "failed" counts as hard.
"""

from __future__ import annotations

import email
import email.message
import email.parser
import email.policy
import email.utils
import re
from dataclasses import dataclass, field
from typing import List, Optional, Union

from bot.email.parse import InboundEmail, decode_bytes

_STATUS_RE = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_SMTP_CODE_RE = re.compile(r"\b([45])\d\d\b")
_MSGID_RE = re.compile(r"<([^<>\s]{1,500})>")
_ADDRESS_RE = re.compile(r"<?([A-Za-z0-9.!#$%&'*+/=?^_`{|}~\-]{1,128}@[A-Za-z0-9.\-]{1,255}\.[A-Za-z]{2,63})>?")
_BOUNCE_SENDER_RE = re.compile(r"^(mailer-daemon|postmaster|mail-daemon|mailer_daemon)@", re.IGNORECASE)
_BOUNCE_SUBJECT_RE = re.compile(
    r"(undeliver|undelivered mail|delivery status notification|delivery failure|failure notice"
    r"|mail delivery failed|returned mail|delivery has failed|could not be delivered)",
    re.IGNORECASE,
)
# Phrases after which old-style bounces list the failed addresses.
_FAILED_LIST_RE = re.compile(
    r"(following\s+address(?:\(es\)|es)?\s+failed|could\s+not\s+be\s+delivered\s+to(?:\s+one\s+or\s+more)?"
    r"|delivery\s+to\s+the\s+following\s+recipients?\s+failed|undeliverable\s+to|permanent\s+fatal\s+errors"
    r"|was\s+not\s+delivered\s+to|wasn't\s+delivered\s+to)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class BouncedRecipient:
    address: str  # lower-cased
    action: str  # "failed" or "delayed"
    status: Optional[str]  # e.g. "5.1.1"; None when the bounce gave none
    diagnostic: Optional[str]  # e.g. "smtp; 550 5.1.1 <x@y>: Recipient address rejected"

    @property
    def hard(self) -> bool:
        """Permanent: the address should be marked undeliverable."""
        if self.status:
            return self.status.startswith("5")
        return self.action == "failed"


@dataclass
class Bounce:
    recipients: List[BouncedRecipient]  # only failed or delayed ones
    original_message_id: Optional[str]  # without <>: the message that bounced
    certain: bool  # True for an RFC 3464 DSN, False for a guessed plain-text bounce
    reporting_mta: Optional[str] = None
    problems: List[str] = field(default_factory=list)

    @property
    def hard(self) -> bool:
        return any(r.hard for r in self.recipients)

    @property
    def addresses(self) -> List[str]:
        return [r.address for r in self.recipients]


def parse_bounce(message: Union[bytes, InboundEmail]) -> Optional[Bounce]:
    """The bounce in ``message``, or None when it is not one. Never raises."""
    raw = message.raw if isinstance(message, InboundEmail) else message
    if not isinstance(raw, (bytes, bytearray)) or not raw:
        return None
    try:
        msg = email.message_from_bytes(bytes(raw), policy=email.policy.compat32)
        report = _delivery_status_part(msg)
        if report is not None:
            return _from_dsn(msg, report)
        return _from_plain_bounce(msg)
    except Exception:
        return None


# -- RFC 3464 ----------------------------------------------------------------


def _delivery_status_part(msg) -> Optional[email.message.Message]:
    if msg.get_content_type() != "multipart/report":
        return None
    report_type = (msg.get_param("report-type") or "")
    if isinstance(report_type, tuple):
        report_type = report_type[2]
    if str(report_type).strip().lower() != "delivery-status":
        return None
    for part in _walk(msg):
        if part.get_content_type() in ("message/delivery-status", "message/global-delivery-status"):
            return part
    return None


def _from_dsn(msg, report) -> Optional[Bounce]:
    blocks = _status_blocks(report)
    if not blocks:
        return None
    per_message, per_recipient = blocks[0], blocks[1:]
    recipients = []
    for fields in per_recipient:
        action = fields.get("action", "").split("(")[0].strip().lower()
        if action not in ("failed", "delayed"):
            continue  # delivered / relayed / expanded: not a failure
        address = _after_type(fields.get("final-recipient") or fields.get("original-recipient") or "")
        if not address:
            continue
        status_match = _STATUS_RE.search(fields.get("status", ""))
        recipients.append(
            BouncedRecipient(
                address=address.lower(),
                action=action,
                status=status_match.group(0) if status_match else None,
                diagnostic=fields.get("diagnostic-code") or None,
            )
        )
    if not recipients:
        return None
    original = _returned_message_id(msg) or _first_id(
        per_message.get("original-message-id") or per_message.get("x-original-message-id")
    )
    for fields in per_recipient:  # some MTAs put it per recipient
        original = original or _first_id(fields.get("x-original-message-id") or fields.get("original-message-id"))
    problems = [] if original else ["bounce does not say which message bounced"]
    return Bounce(
        recipients=recipients,
        original_message_id=original,
        certain=True,
        reporting_mta=_after_type(per_message.get("reporting-mta", "")) or None,
        problems=problems,
    )


def _status_blocks(report) -> List[dict]:
    """The delivery-status fields: [per-message, per-recipient...], names lower-cased."""
    payload = report.get_payload()
    if isinstance(payload, list):  # the email package already split the blocks
        return [_fields(block.items()) for block in payload if isinstance(block, email.message.Message)]
    data = report.get_payload(decode=True) or b""
    text = decode_bytes(data, report.get_content_charset(), "delivery-status", [])
    blocks = re.split(r"\r?\n\s*\r?\n", text.strip())
    parser = email.parser.HeaderParser(policy=email.policy.compat32)
    return [_fields(parser.parsestr(block.strip() + "\n").items()) for block in blocks if block.strip()]


def _fields(items) -> dict:
    out = {}
    for name, value in items:
        out.setdefault(name.strip().lower(), re.sub(r"\s+", " ", str(value)).strip())
    return out


def _after_type(value: str) -> str:
    """"rfc822; a@b.example" -> "a@b.example"."""
    value = value.split(";", 1)[1] if ";" in value else value
    return value.strip().strip("<>").strip()


def _returned_message_id(msg) -> Optional[str]:
    for part in _walk(msg):
        ctype = part.get_content_type()
        if ctype in ("message/rfc822", "message/global"):
            inner = part.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], email.message.Message):
                found = _first_id(inner[0].get("message-id"))
                if found:
                    return found
        elif ctype in ("text/rfc822-headers", "message/global-headers"):
            data = part.get_payload(decode=True) or b""
            headers = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(data)
            found = _first_id(headers.get("message-id"))
            if found:
                return found
    return None


def _first_id(value) -> Optional[str]:
    if not value:
        return None
    match = _MSGID_RE.search(str(value))
    return match.group(1) if match else None


def _walk(msg):
    stack, count = [msg], 0
    while stack and count < 200:
        part = stack.pop()
        count += 1
        yield part
        payload = part.get_payload()
        if isinstance(payload, list) and part.get_content_maintype() == "multipart":
            stack.extend(reversed([p for p in payload if isinstance(p, email.message.Message)]))


# -- old-style plain-text bounces (uncertain) --------------------------------


def _from_plain_bounce(msg) -> Optional[Bounce]:
    sender = email.utils.parseaddr(str(msg.get("from", "")))[1]
    subject = str(msg.get("subject", ""))
    failed_header = str(msg.get("x-failed-recipients", "") or "")
    if not (_BOUNCE_SENDER_RE.match(sender) or failed_header):
        return None
    text = _plain_text(msg)
    addresses = [a.lower() for a in _ADDRESS_RE.findall(failed_header)]
    if not addresses:
        match = _FAILED_LIST_RE.search(text)
        if not match or not _BOUNCE_SUBJECT_RE.search(subject + " " + text[:300]):
            return None
        window = text[match.end() : match.end() + 600]
        addresses = [a.lower() for a in _ADDRESS_RE.findall(window)][:2]
    # The bounce goes back to the original sender (us): never report that address.
    not_failed = {sender.lower()} | {a.lower() for _, a in email.utils.getaddresses([str(v) for v in msg.get_all("to", [])])}
    addresses = [a for a in dict.fromkeys(addresses) if a not in not_failed]
    addresses = addresses[:1] if not failed_header else addresses
    if not addresses:
        return None
    status_match = _STATUS_RE.search(text)
    status = status_match.group(0) if status_match else None
    if status is None:
        code = _SMTP_CODE_RE.search(text)
        status = f"{code.group(1)}.0.0" if code else None
    diagnostic = _diagnostic_line(text)
    action = "delayed" if status and status.startswith("4") else "failed"
    own_id = _first_id(msg.get("message-id"))
    original = None
    for found in re.finditer(r"(?im)^\s*Message-ID:\s*(<[^<>\s]+>)", text):
        candidate = _first_id(found.group(1))
        if candidate and candidate != own_id:
            original = candidate
            break
    original = original or _returned_message_id(msg)
    return Bounce(
        recipients=[BouncedRecipient(a, action, status, diagnostic) for a in addresses],
        original_message_id=original,
        certain=False,
        problems=["not a standard delivery status notification; recognised from its wording"],
    )


def _plain_text(msg) -> str:
    out = []
    for part in _walk(msg):
        if part.get_content_maintype() == "multipart":
            continue
        if part.get_content_type() in ("text/plain", "text/rfc822-headers", "message/rfc822"):
            payload = part.get_payload()
            if isinstance(payload, list):
                out.extend(p.as_string() for p in payload if isinstance(p, email.message.Message))
            else:
                data = part.get_payload(decode=True) or b""
                out.append(decode_bytes(data, part.get_content_charset(), "bounce", []))
    return "\n".join(out)[:200_000]


def _diagnostic_line(text: str) -> Optional[str]:
    for line in text.splitlines():
        if _SMTP_CODE_RE.search(line) and re.search(r"\b[45]\d\d[ -]", line):
            return line.strip()[:300]
    return None
