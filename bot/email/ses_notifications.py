"""Amazon SES notifications (direct, or wrapped by SNS): the bounces among them. Pure; the
feedback-report reader uses ``ses_notification`` for complaints."""

from __future__ import annotations

import json
from typing import Optional

from bot.email import report_text as rt
from bot.email import smtp_command
from bot.email.bounce_model import Bounce, BouncedRecipient, one_line, status_in
from bot.email.bounce_reasons import reason_for, settle


def bounce_from_ses(msg) -> Optional[Bounce]:
    """The bounce in an SES notification; its reasons are weighed as any report's (``settle``)."""
    notice = ses_notification(msg)
    if not notice or notice.get("notificationType") != "Bounce":
        return None
    bounce = notice.get("bounce") or {}
    permanent = str(bounce.get("bounceType", "")).lower() == "permanent"
    recipients = []
    for item in bounce.get("bouncedRecipients") or []:
        found = rt.addresses_in(item.get("emailAddress"))
        address = found[0] if found else None
        if not address:
            continue
        status = status_in(str(item.get("status", "")))
        diagnostic = str(item.get("diagnosticCode") or bounce.get("bounceSubType") or "")
        reason = settle(
            reason_for(diagnostic, status),
            status=status,
            command=smtp_command.refused_at(diagnostic),
            remote_reply=smtp_command.quotes_reply(diagnostic),
        )
        if reason == "undefined" and permanent and str(bounce.get("bounceSubType")) in ("General", "NoEmail"):
            reason = "userunknown"
        recipients.append(
            BouncedRecipient(address, "failed" if permanent else "delayed", status, one_line(diagnostic), reason)
        )
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
