"""bot.email.ses_notifications: Amazon SES notifications, direct or wrapped by SNS."""

from __future__ import annotations

import json

from bot.email import report_text as rt
from bot.email.ses_notifications import bounce_from_ses, ses_notification

INNER = {"notificationType": "Bounce",
         "bounce": {"bounceType": "Permanent", "bounceSubType": "General",
                    "bouncedRecipients": [{"emailAddress": "gone@example.com", "status": "5.1.1",
                                           "diagnosticCode": "smtp; 550 5.1.1 user unknown"}]},
         "mail": {"messageId": "0101abc", "source": "billing@northwind.example",
                  "commonHeaders": {"from": ["billing@northwind.example"], "subject": "Payment reminder"}}}


def _sns(inner_json: str) -> bytes:
    envelope = json.dumps({"Type": "Notification", "Message": inner_json}, indent=2)
    return b"From: no-reply@sns.amazonaws.com\r\nSubject: AWS Notification Message\r\n\r\n" + envelope.encode()


def test_an_sns_wrapped_bounce_names_only_the_bounced_recipient():
    bounce = bounce_from_ses(rt.message_from(_sns(json.dumps(INNER))))
    assert bounce.addresses == ["gone@example.com"] and bounce.hard and bounce.source == "ses"
    assert bounce.original_message_id == "0101abc"


def test_sns_line_wrapping_inside_a_string_is_still_read():
    # SNS mail wraps long lines, also inside the JSON strings of the inner notification; a strict
    # reader failed there and the plain-text reader then took our own sender for a failed recipient.
    inner = json.dumps(INNER).replace("Payment reminder", "Payment\n reminder")
    raw = _sns("PLACEHOLDER").replace(b'"PLACEHOLDER"', json.dumps(inner).replace("\\n", "\n").encode())
    bounce = bounce_from_ses(rt.message_from(raw))
    assert bounce is not None and bounce.addresses == ["gone@example.com"]


def test_a_complaint_is_a_notification_but_no_bounce():
    complaint = {"notificationType": "Complaint", "complaint": {"complainedRecipients": [{"emailAddress": "a@example.com"}]}}
    msg = rt.message_from(_sns(json.dumps(complaint)))
    assert ses_notification(msg)["notificationType"] == "Complaint"
    assert bounce_from_ses(msg) is None


def test_a_remote_user_unknown_relayed_by_ses_is_weighed_like_any_other():
    # SES relays the remote server's words; with no status naming the address and no command,
    # "user unknown" is unconfirmed (soft, adds up), as in any report. SES's own "NoEmail" verdict is hard.
    unconfirmed = {**INNER, "bounce": {**INNER["bounce"], "bouncedRecipients": [
        {"emailAddress": "gone@example.com", "status": "5.0.0", "diagnosticCode": "smtp; 550 User unknown"}]}}
    (recipient,) = bounce_from_ses(rt.message_from(_sns(json.dumps(unconfirmed)))).recipients
    assert (recipient.reason, recipient.hard) == ("filtered", False)
    no_email = {**INNER, "bounce": {"bounceType": "Permanent", "bounceSubType": "NoEmail",
                                    "bouncedRecipients": [{"emailAddress": "gone@example.com"}]}}
    (recipient,) = bounce_from_ses(rt.message_from(_sns(json.dumps(no_email)))).recipients
    assert (recipient.reason, recipient.hard) == ("userunknown", True)
