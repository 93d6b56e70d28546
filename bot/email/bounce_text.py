"""Plain-text delivery reports (qmail, Exim, Postfix, Sendmail, Exchange, Yahoo, OpenSMTPD, Lotus
Notes and the rest): the message must look like a report (a mailer-daemon style sender, an
empty Return-Path, a bounce subject, failure wording) and name the recipient in the server's own
words, or in X-Failed-Recipients. Failing that, the To of our returned message, and the bounce
is not ``certain``. Pure."""

from __future__ import annotations

import email.utils
import re
from typing import List, Optional

from bot.email import report_text as rt
from bot.email import smtp_command
from bot.email.bounce_model import (
    STATUS_RE,
    Bounce,
    BouncedRecipient,
    one_line,
    original_message_id,
    status_in,
    words_about,
)
from bot.email.bounce_reasons import reason_for, settle

_ROBOT_LOCAL = re.compile(
    r"^(mailer[-_]?daemon|mail[-_.]?daemon|postmaster|post_master|poostmaster|mail\.delivery\.system|mailer|mail-?router"
    r"|mailadmin|mmdf|smtp|root|abuse|no-?reply|noreply|bounces?|bounce-.*|mailer-.*)$",
    re.IGNORECASE,
)
_ROBOT_NAME = re.compile(
    r"mailer-daemon|mail delivery|postmaster|mail system|delivery (status|subsystem)", re.IGNORECASE
)
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|undelivered|delivery status|delivery (has )?fail|failure (notice|delivery)|delivery failure|mail delivery"
    r"|returned mail|returned to sender|could not be delivered|not delivered|delivery notification|delivery problem"
    r"|mail system error|failed delivery|non.?delivery|\bdelayed\b|warning: message|nondeliverable|rejected|error sending"
    r"|delivery report|problem with your (mail|message)|message you sent|unzustellbar|non remis|no entregado",
    re.IGNORECASE,
)
_FAILURE_WORDS = re.compile(
    r"could not be delivered|couldn'?t be delivered|not be delivered|wasn'?t able to deliver|unable to deliver"
    r"|delivery (to the following|has failed|failed|failure|of your message)|failed permanently|permanent (fatal )?error"
    r"|did not reach|does not like recipient|error (occurred )?(while |when )?(trying to )?deliver|was not delivered"
    r"|has not (yet )?been delivered|undeliverable|user unknown|no such (user|mailbox|domain)|delivery is delayed"
    r"|message (could not|cannot) be|following (address|recipient)|returned to (the )?sender|delivery problem"
    r"|will (keep|continue) trying|could not deliver|not accepted|rejected|mailbox (is )?full|host unknown"
    r"|temporary (failure|error)|giving up|delivery attempts|message was not sent|there was an error",
    re.IGNORECASE,
)
_DELAY_WORDS = re.compile(
    r"\bdelay(ed)?\b|warning|will (keep|continue) (trying|to try)|still trying|not yet been delivered"
    r"|will be retried|retrying",
    re.IGNORECASE,
)
_NOT_RECIPIENT_LOCAL = re.compile(
    r"^(mailer-?daemon|postmaster|abuse|root|no-?reply|noreply|hostmaster|webmaster)$", re.I
)


def looks_like_report(msg) -> bool:
    """A machine-written delivery report: X-Failed-Recipients, or a mail-system sender with a bounce
    subject or failure wording. From anyone else (a customer forwarding a bounce, or asking about
    one) it also needs the server's own traces: a status or SMTP code and a returned message."""
    if msg.get("x-failed-recipients"):
        return True
    name, sender = email.utils.parseaddr(str(msg.get("from", "")))
    robot = (
        (bool(sender) and _ROBOT_LOCAL.match(sender.split("@")[0]) is not None)
        or bool(_ROBOT_NAME.search(name))
        or not sender
        or re.sub(r"\s", "", str(msg.get("return-path", "x"))) == "<>"
    )
    words = rt.server_words(msg)[:20_000]
    subject = bool(_BOUNCE_SUBJECT.search(str(msg.get("subject", ""))))
    wording = bool(_FAILURE_WORDS.search(words))
    if robot:
        return subject or wording
    traces = (
        bool(STATUS_RE.search(words) or smtp_command.REPLY_CODE.search(words)) and rt.returned_headers(msg) is not None
    )
    return subject and wording and traces


def bounce_from_text(msg) -> Optional[Bounce]:
    """The bounce in a plain-text report, or None when ``msg`` does not look like one."""
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
        about = words_about(words, address, addresses)
        status = status_in(about) or status_in(words)
        if status is None:
            code = smtp_command.REPLY_CODE.search(about) or smtp_command.REPLY_CODE.search(words)
            status = f"{code.group(1)}.0.0" if code else None
        reason = reason_for(about, status)
        if reason == "undefined":
            reason = reason_for(subject + "\n" + words, status)
        reason = settle(
            reason,
            status=status,
            command=smtp_command.refused_at(about) or smtp_command.refused_at(words),
            remote_reply=smtp_command.quotes_reply(about),
        )
        action = (
            "delayed"
            if delayed or (status or "").startswith("4") and _DELAY_WORDS.search(subject + words)
            else "failed"
        )
        recipients.append(BouncedRecipient(address, action, status, one_line(_diagnostic(about) or about), reason))
    problems = ["not a standard delivery status notification; recognised from its wording"]
    if not certain:
        problems.append("no failed recipient named; taken from the returned message")
    return Bounce(
        recipients, original_message_id(msg), certain=certain and bool(recipients), source="text", problems=problems
    )


def _named_recipients(words: str, ours: set) -> List[str]:
    """Addresses the server names in its own words, minus ours and its own mailboxes and ids."""
    found: List[str] = []
    for match in rt.ADDRESS_RE.finditer(words):
        address = match.group(0).lower().strip(".")
        before = words[max(0, match.start() - 30) : match.start()].lower()
        if address in ours or address in found or _NOT_RECIPIENT_LOCAL.match(address.split("@")[0]):
            continue
        if re.search(r"(message-id|msgid|id)[:= ]*<?$", before) or "://" in before[-12:]:
            continue  # a Message-ID or a link, not a mailbox
        if re.search(r"\b(from|sender|return-path|reply-to)[ \t]*:[ \t]*<?$", before):
            continue  # the report naming our message's sender ("MAIL FROM: ...", "From: ...")
        found.append(address)
    return found


def _diagnostic(text: str) -> Optional[str]:
    for line in text.splitlines():
        if smtp_command.REPLY_CODE.search(line) or STATUS_RE.search(line):
            return line.strip()
    return None
