"""Recognise feedback reports: a mailbox provider telling us its user marked our mail as spam. Pure.

RFC 5965 (ARF): multipart/report; report-type=feedback-report, with a
message/feedback-report part (Feedback-Type, Original-Rcpt-To...) and our
message (or its headers) returned. Also the older Hotmail/Outlook style (a
"complaint about message from ..." with our message attached, no report part)
and Amazon SES complaint notifications (JSON).

The complainer is the address we wrote to: Original-Rcpt-To, else the To of
our returned message. Reminders to it must stop; the caller tells an agent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Union

from bot.email import report_text as rt
from bot.email.parse import InboundEmail
from bot.email.ses_notifications import ses_notification

_COMPLAINT_SUBJECT = re.compile(
    r"complaint about message|abuse report|spam report|feedback loop|\bfbl\b"
    r"|reported as spam|spam complaint",
    re.IGNORECASE,
)


@dataclass
class FeedbackReport:
    feedback_type: str  # abuse, fraud, virus, not-spam, other... ("abuse" when unsaid)
    complainers: List[str]  # lower-cased addresses we wrote to
    original_message_id: Optional[str]  # without <>
    source: str  # arf | legacy | ses
    user_agent: Optional[str] = None
    problems: List[str] = field(default_factory=list)


def parse_feedback_report(message: Union[bytes, InboundEmail]) -> Optional[FeedbackReport]:
    """The feedback report in ``message``, or None when it is not one. Never raises."""
    raw = message.raw if isinstance(message, InboundEmail) else message
    if not isinstance(raw, (bytes, bytearray)) or not raw:
        return None
    try:
        msg = rt.message_from(bytes(raw))
        return _from_arf(msg) or _from_ses(msg) or _from_legacy(msg)
    except Exception:
        return None


def _report_type(msg) -> str:
    value = msg.get_param("report-type") or ""
    if isinstance(value, tuple):
        value = value[2]
    return str(value).strip().lower()


def _from_arf(msg) -> Optional[FeedbackReport]:
    part = next((p for p in rt.walk(msg) if p.get_content_type() == "message/feedback-report"), None)
    if part is None and not (msg.get_content_type() == "multipart/report" and _report_type(msg) == "feedback-report"):
        return None
    fields: Dict[str, List[str]] = {}
    if part is not None:
        payload = part.get_payload()
        text = "\n".join(str(b) for b in payload) if isinstance(payload, list) else rt.part_text(part)
        for line in text.replace("\r\n", "\n").split("\n"):
            name, sep, value = line.partition(":")
            if sep and name.strip():
                fields.setdefault(name.strip().lower(), []).append(value.strip())
    returned = rt.returned_headers(msg)
    complainers = _unique(
        rt.addresses_in(" ".join(fields.get("original-rcpt-to", []) + fields.get("removal-recipient", [])))
        or rt.header_addresses(returned, "to", "cc")
    )
    original = rt.first_id(returned.get("message-id")) if returned is not None else None
    problems = [] if complainers else ["feedback report does not say who complained"]
    return FeedbackReport(
        feedback_type=(fields.get("feedback-type") or ["abuse"])[0].lower()[:40],
        complainers=complainers,
        original_message_id=original,
        source="arf",
        user_agent=next(iter(fields.get("user-agent") or []), None),
        problems=problems,
    )


def _from_ses(msg) -> Optional[FeedbackReport]:
    notice = ses_notification(msg)
    if not notice or notice.get("notificationType") != "Complaint":
        return None
    complaint = notice.get("complaint") or {}
    complainers = _unique(
        [a for item in complaint.get("complainedRecipients") or [] for a in rt.addresses_in(item.get("emailAddress"))]
    )
    mail = notice.get("mail") or {}
    original = str(mail.get("messageId")) if mail.get("messageId") else None
    return FeedbackReport(
        str(complaint.get("complaintFeedbackType") or "abuse").lower()[:40],
        complainers,
        original,
        "ses",
        complaint.get("userAgent"),
    )


def _from_legacy(msg) -> Optional[FeedbackReport]:
    """Hotmail's old JMRP style: a complaint subject, our message attached whole."""
    if not _COMPLAINT_SUBJECT.search(str(msg.get("subject", ""))):
        return None
    types = {p.get_content_type() for p in rt.walk(msg)}
    if not types & {"message/rfc822", "text/rfc822-headers"} or types & {
        "message/delivery-status",
        "message/global-delivery-status",
    }:
        return None  # nothing attached, or a delivery report (a bounce) rather than a complaint
    returned = rt.returned_headers(msg)
    complainers = rt.header_addresses(returned, "to", "cc")
    original = rt.first_id(returned.get("message-id")) if returned is not None else None
    return FeedbackReport(
        "abuse",
        complainers,
        original,
        "legacy",
        problems=["not an RFC 5965 report; recognised from its subject and the attached message"],
    )


def _unique(items: List[str]) -> List[str]:
    return list(dict.fromkeys(items))
