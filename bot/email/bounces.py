"""Recognise bounces (delivery failure and delay reports) and say who failed, how and why. Pure.

A hard bounce must mark the address undeliverable and pause dunning for it, so
we need the failed recipient, the status and diagnostic, whether the failure is
hard (see ``bounce_reasons``), and the Message-ID of our message that bounced.

Read in this order, the first that finds failed recipients wins:

1. RFC 3464 delivery-status fields (in a message/delivery-status part, whatever
   the report-type says, or pasted as text by servers such as Amazon WorkMail);
2. Amazon SES bounce notifications (JSON);
3. the plain-text reports of qmail, Exim, Postfix, Sendmail, Exchange, Yahoo,
   OpenSMTPD, Lotus Notes and the rest: the message must look like a report (a
   mailer-daemon style sender, an empty Return-Path, a bounce subject, failure
   wording) and name the recipient in the server's own words, or in
   X-Failed-Recipients. Failing that, the To of our returned message.

``certain`` is False only when the recipient was guessed from our returned
message: the caller then tells an agent but changes nothing.
"""

from __future__ import annotations

import email.message
import email.parser
import email.policy
import email.utils
import json
import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Union

from bot.email import report_text as rt
from bot.email import smtp_command
from bot.email.bounce_reasons import is_hard, reason_for, settle
from bot.email.parse import InboundEmail

_STATUS_RE = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_SMTP_CODE_RE = re.compile(r"(?<![\d.])([45])\d\d(?=[ -]|$)(?![.\d])", re.MULTILINE)
_ROBOT_LOCAL = re.compile(
    r"^(mailer[-_]?daemon|mail[-_.]?daemon|postmaster|post_master|poostmaster|mail\.delivery\.system|mailer|mail-?router"
    r"|mailadmin|mmdf|smtp|root|abuse|no-?reply|noreply|bounces?|bounce-.*|mailer-.*)$", re.IGNORECASE)
_ROBOT_NAME = re.compile(r"mailer-daemon|mail delivery|postmaster|mail system|delivery (status|subsystem)", re.IGNORECASE)
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|undelivered|delivery status|delivery (has )?fail|failure (notice|delivery)|delivery failure|mail delivery"
    r"|returned mail|returned to sender|could not be delivered|not delivered|delivery notification|delivery problem"
    r"|mail system error|failed delivery|non.?delivery|\bdelayed\b|warning: message|nondeliverable|rejected|error sending"
    r"|delivery report|problem with your (mail|message)|message you sent|unzustellbar|non remis|no entregado", re.IGNORECASE)
_FAILURE_WORDS = re.compile(
    r"could not be delivered|couldn'?t be delivered|not be delivered|wasn'?t able to deliver|unable to deliver"
    r"|delivery (to the following|has failed|failed|failure|of your message)|failed permanently|permanent (fatal )?error"
    r"|did not reach|does not like recipient|error (occurred )?(while |when )?(trying to )?deliver|was not delivered"
    r"|has not (yet )?been delivered|undeliverable|user unknown|no such (user|mailbox|domain)|delivery is delayed"
    r"|message (could not|cannot) be|following (address|recipient)|returned to (the )?sender|delivery problem"
    r"|will (keep|continue) trying|could not deliver|not accepted|rejected|mailbox (is )?full|host unknown"
    r"|temporary (failure|error)|giving up|delivery attempts|message was not sent|there was an error", re.IGNORECASE)
_DELAY_WORDS = re.compile(r"\bdelay(ed)?\b|warning|will (keep|continue) (trying|to try)|still trying|not yet been delivered"
                          r"|will be retried|retrying", re.IGNORECASE)
_NOT_RECIPIENT_LOCAL = re.compile(r"^(mailer-?daemon|postmaster|abuse|root|no-?reply|noreply|hostmaster|webmaster)$", re.I)


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
        return _from_ses(msg) or _from_text(msg)
    except Exception:
        return None


# -- RFC 3464 ----------------------------------------------------------------


def _from_dsn(msg, blocks: List[Dict[str, str]]) -> Optional[Bounce]:
    words = rt.server_words(msg)
    subject = str(msg.get("subject", ""))
    per_message = blocks[0] if not _recipient_of(blocks[0]) else {}
    recipients = []
    named = [a for a in (_recipient_of(f) for f in blocks) if a]
    for fields in blocks:
        address = _recipient_of(fields)
        if not address or address in {r.address for r in recipients}:
            continue
        action = fields.get("action", "").split("(")[0].strip().lower()
        diagnostic = fields.get("diagnostic-code") or None
        status = _status(fields.get("status", ""))
        if action in ("delivered", "relayed", "expanded") or (status or "").startswith("2"):
            continue  # not a failure
        told = _words_about(words, address, named)
        status = _specific(status, _status(diagnostic or told))
        about = " ".join(filter(None, [diagnostic, told, subject]))
        reason = reason_for(diagnostic or "", status) if diagnostic else "undefined"
        if reason == "undefined":
            reason = reason_for(about, status)
        reason = settle(reason, status=status, command=smtp_command.refused_at(told) or smtp_command.refused_at(words),
                        remote_reply=smtp_command.quotes_reply(diagnostic or told))
        if action not in ("failed", "delayed"):
            action = "delayed" if (status or "").startswith("4") or action.startswith("delay") else "failed"
        recipients.append(BouncedRecipient(address, action, status, _one_line(diagnostic or _words_about(words, address, named)),
                                           reason))
    if not recipients:
        return None
    original = _original_message_id(msg, blocks)
    return Bounce(recipients=recipients, original_message_id=original, certain=True,
                  reporting_mta=_after_type(per_message.get("reporting-mta", "")) or None, source="dsn",
                  problems=[] if original else ["bounce does not say which message bounced"])


def _dsn_blocks(msg) -> List[Dict[str, str]]:
    for part in rt.walk(msg):
        if part.get_content_type() in ("message/delivery-status", "message/global-delivery-status"):
            payload = part.get_payload()
            if isinstance(payload, list) and payload and all(isinstance(p, email.message.Message) for p in payload):
                blocks = [_fields(block.items()) for block in payload]
            else:
                blocks = _text_blocks(rt.part_text(part))
            if any(_recipient_of(b) for b in blocks):
                return blocks
    # DSN fields pasted into the text (Amazon WorkMail, some gateways).
    words = rt.plain_texts(msg)
    if re.search(r"(?im)^\s*final-recipient:", words):
        start = re.search(r"(?im)^\s*(reporting-mta|final-recipient|original-recipient|action):", words).start()
        return _text_blocks(words[start:start + 20_000])
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
    """"rfc822; a@b.example" -> "a@b.example"."""
    value = value.split(";", 1)[1] if ";" in value else value
    return value.strip().strip("<>").strip()


def _status(value: str) -> Optional[str]:
    match = _STATUS_RE.search(value or "")
    return match.group(0) if match else None


def _specific(status: Optional[str], remote: Optional[str]) -> Optional[str]:
    """The remote server's own status (in its diagnostic) when the report's is only a class (X.0.0)."""
    if remote and (status is None or status.endswith(".0.0")) and not remote.endswith(".0.0"):
        return remote
    return status


def _original_message_id(msg, blocks=()) -> Optional[str]:
    returned = rt.returned_headers(msg)
    found = rt.first_id(returned.get("message-id")) if returned is not None else None
    for fields in blocks:  # some MTAs name it in the report
        found = found or rt.first_id(fields.get("original-message-id") or fields.get("x-original-message-id"))
    own = rt.first_id(msg.get("message-id"))
    return found if found and found != own else None


# -- Amazon SES notifications ---------------------------------------------------


def _from_ses(msg) -> Optional[Bounce]:
    notice = ses_notification(msg)
    if not notice or notice.get("notificationType") != "Bounce":
        return None
    bounce = notice.get("bounce") or {}
    permanent = str(bounce.get("bounceType", "")).lower() == "permanent"
    recipients = []
    for item in bounce.get("bouncedRecipients") or []:
        address = (rt.addresses_in(item.get("emailAddress")) or [None])[0]
        if not address:
            continue
        status = _status(str(item.get("status", "")))
        diagnostic = str(item.get("diagnosticCode") or bounce.get("bounceSubType") or "")
        reason = reason_for(diagnostic, status)
        if reason == "undefined" and permanent and str(bounce.get("bounceSubType")) in ("General", "NoEmail"):
            reason = "userunknown"
        recipients.append(BouncedRecipient(address, "failed" if permanent else "delayed", status,
                                           _one_line(diagnostic), reason))
    mail = notice.get("mail") or {}
    original = rt.first_id(f"<{mail.get('messageId')}>") if mail.get("messageId") else None
    return Bounce(recipients, original, certain=bool(recipients), source="ses") if recipients else None


def ses_notification(msg) -> Optional[dict]:
    """The JSON of an Amazon SES notification (direct or wrapped by SNS), or None."""
    for part in rt.walk(msg):
        if part.get_content_type() not in ("text/plain", "application/json"):
            continue
        text = rt.part_text(part)
        start = text.find("{")
        if start < 0 or '"notificationType"' not in text and '\\"notificationType\\"' not in text:
            continue
        try:
            data, _ = json.JSONDecoder(strict=False).raw_decode(text[start:])  # SNS wraps long lines
        except ValueError:
            continue
        if isinstance(data, dict) and isinstance(data.get("Message"), str):  # SNS envelope
            try:
                data = json.JSONDecoder(strict=False).decode(data["Message"])  # SNS wraps long lines inside strings too
            except ValueError:
                continue
        if isinstance(data, dict) and "notificationType" in data:
            return data
    return None


# -- plain-text reports -----------------------------------------------------------


def looks_like_report(msg) -> bool:
    """A machine-written delivery report: X-Failed-Recipients, or a mail-system sender with a bounce
    subject or failure wording. From anyone else (a customer forwarding a bounce, or asking about
    one) it also needs the server's own traces: a status or SMTP code and a returned message."""
    if msg.get("x-failed-recipients"):
        return True
    name, sender = email.utils.parseaddr(str(msg.get("from", "")))
    robot = (bool(sender) and _ROBOT_LOCAL.match(sender.split("@")[0]) is not None) or bool(_ROBOT_NAME.search(name)) \
        or not sender or re.sub(r"\s", "", str(msg.get("return-path", "x"))) == "<>"
    words = rt.server_words(msg)[:20_000]
    subject = bool(_BOUNCE_SUBJECT.search(str(msg.get("subject", ""))))
    wording = bool(_FAILURE_WORDS.search(words))
    if robot:
        return subject or wording
    traces = bool(_STATUS_RE.search(words) or _SMTP_CODE_RE.search(words)) and rt.returned_headers(msg) is not None
    return subject and wording and traces


def _from_text(msg) -> Optional[Bounce]:
    if not looks_like_report(msg):
        return None
    words = rt.server_words(msg)
    subject = str(msg.get("subject", ""))
    returned = rt.returned_headers(msg)
    ours = set(rt.header_addresses(msg, "from", "to", "cc", "delivered-to", "return-path"))
    ours |= set(rt.header_addresses(returned, "from", "sender", "return-path", "reply-to"))
    ours -= set(rt.header_addresses(returned, "to", "cc"))  # a returned message's recipient is the one that failed
    failed_header = rt.addresses_in(msg.get("x-failed-recipients", ""))
    named = _named_recipients(words, ours)
    intended = rt.header_addresses(returned, "to", "cc") or rt.addresses_in(msg.get("x-original-to", ""))
    preferred = [a for a in named if a in intended]
    addresses = failed_header or preferred or named
    certain = bool(addresses)
    if not addresses:
        addresses = [a for a in intended if a not in ours][:5]
    delayed = bool(_DELAY_WORDS.search(subject)) and not re.search(r"\b5\.\d\.\d|\b5\d\d\b", words)
    recipients = []
    for address in addresses[:50]:
        about = _words_about(words, address, addresses)
        status = _status(about) or _status(words)
        if status is None:
            code = _SMTP_CODE_RE.search(about) or _SMTP_CODE_RE.search(words)
            status = f"{code.group(1)}.0.0" if code else None
        reason = reason_for(about, status)
        if reason == "undefined":
            reason = reason_for(subject + "\n" + words, status)
        reason = settle(reason, status=status, command=smtp_command.refused_at(about) or smtp_command.refused_at(words),
                        remote_reply=smtp_command.quotes_reply(about))
        action = "delayed" if delayed or (status or "").startswith("4") and _DELAY_WORDS.search(subject + words) else "failed"
        recipients.append(BouncedRecipient(address, action, status, _one_line(_diagnostic(about) or about), reason))
    problems = ["not a standard delivery status notification; recognised from its wording"]
    if not certain:
        problems.append("no failed recipient named; taken from the returned message")
    return Bounce(recipients, _original_message_id(msg), certain=certain and bool(recipients), source="text",
                  problems=problems)


def _named_recipients(words: str, ours: set) -> List[str]:
    """Addresses the server names in its own words, minus ours and its own mailboxes and ids."""
    found: List[str] = []
    for match in rt.ADDRESS_RE.finditer(words):
        address = match.group(0).lower().strip(".")
        before = words[max(0, match.start() - 30):match.start()].lower()
        if address in ours or address in found or _NOT_RECIPIENT_LOCAL.match(address.split("@")[0]):
            continue
        if re.search(r"(message-id|msgid|id)[:= ]*<?$", before) or "://" in before[-12:]:
            continue  # a Message-ID or a link, not a mailbox
        if re.search(r"\b(from|sender|return-path|reply-to)[ \t]*:[ \t]*<?$", before):
            continue  # the report naming our message's sender ("MAIL FROM: ...", "From: ...")
        found.append(address)
    return found


def _words_about(words: str, address: str, others: List[str] = ()) -> str:
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


def _diagnostic(text: str) -> Optional[str]:
    for line in text.splitlines():
        if _SMTP_CODE_RE.search(line) or _STATUS_RE.search(line):
            return line.strip()
    return None


def _one_line(text: Optional[str]) -> Optional[str]:
    if not text:
        return None
    return re.sub(r"\s+", " ", text).strip()[:300] or None
