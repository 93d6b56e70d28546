"""bot.email.feedback_reports: RFC 5965 reports, Hotmail's older style, Amazon SES complaints."""

from __future__ import annotations

from bot.email.feedback_reports import parse_feedback_report
from bot.email.parse import parse

ARF = (
    b"From: Feedback Loop <fbl@mail.example.net>\r\nTo: abuse@northwind.example\r\nSubject: Abuse report\r\n"
    b"Message-ID: <arf-1@mail.example.net>\r\nMIME-Version: 1.0\r\n"
    b'Content-Type: multipart/report; report-type=feedback-report; boundary="F"\r\n\r\n'
    b"--F\r\nContent-Type: text/plain\r\n\r\nThis is an email abuse report.\r\n"
    b"--F\r\nContent-Type: message/feedback-report\r\n\r\n"
    b"Feedback-Type: abuse\r\nUser-Agent: ExampleFBL/1.0\r\nVersion: 1\r\nOriginal-Rcpt-To: Li.Wei@example.com\r\n"
    b"--F\r\nContent-Type: text/rfc822-headers\r\n\r\n"
    b"Message-ID: <reminder.INV-20015.friendly@northwind.example>\r\nTo: someone.else@example.com\r\n"
    b"--F--\r\n")


def test_an_arf_report_names_the_complainer_and_our_message():
    report = parse_feedback_report(ARF)
    assert report.source == "arf" and report.feedback_type == "abuse" and report.user_agent == "ExampleFBL/1.0"
    assert report.complainers == ["li.wei@example.com"]  # Original-Rcpt-To wins over the returned To
    assert report.original_message_id == "reminder.INV-20015.friendly@northwind.example"
    assert parse_feedback_report(parse(ARF)).complainers == ["li.wei@example.com"]


def test_without_original_rcpt_to_the_returned_message_says_who():
    raw = ARF.replace(b"Original-Rcpt-To: Li.Wei@example.com\r\n", b"")
    assert parse_feedback_report(raw).complainers == ["someone.else@example.com"]


def test_a_report_that_names_nobody_is_still_a_report_and_says_so():
    raw = ARF.replace(b"Original-Rcpt-To: Li.Wei@example.com\r\n", b"").replace(b"To: someone.else@example.com\r\n", b"")
    report = parse_feedback_report(raw)
    assert report.complainers == [] and report.problems == ["feedback report does not say who complained"]


def test_hotmail_style_complaint_with_the_message_attached():
    raw = (b"From: staff@hotmail.com\r\nSubject: complaint about message from 192.0.2.1\r\nMessage-ID: <c1@hotmail.com>\r\n"
           b'Content-Type: multipart/mixed; boundary="M"\r\n\r\n--M\r\nContent-Type: message/rfc822\r\n\r\n'
           b"To: ann@example.com\r\nFrom: billing@northwind.example\r\nMessage-ID: <r1@northwind.example>\r\n\r\nHi\r\n--M--\r\n")
    report = parse_feedback_report(raw)
    assert report.source == "legacy" and report.complainers == ["ann@example.com"]
    assert report.original_message_id == "r1@northwind.example"


def test_amazon_ses_complaint():
    raw = (b"From: no-reply@sns.amazonaws.com\r\nSubject: AWS Notification Message\r\n\r\n"
           b'{"notificationType":"Complaint","complaint":{"complainedRecipients":[{"emailAddress":"ann@example.com"}],'
           b'"complaintFeedbackType":"abuse"},"mail":{"messageId":"0101abc"}}\r\n')
    report = parse_feedback_report(raw)
    assert report.source == "ses" and report.complainers == ["ann@example.com"]


def test_ordinary_mail_bounces_and_read_receipts_are_not_reports():
    assert parse_feedback_report(b"From: ann@example.com\r\nSubject: spam report for my account?\r\n\r\nHi") is None
    dsn = ARF.replace(b"report-type=feedback-report", b"report-type=delivery-status").replace(
        b"message/feedback-report", b"message/delivery-status")
    assert parse_feedback_report(dsn) is None
    for raw in (b"", b"\x00\xff", ARF[:300]):
        parse_feedback_report(raw)  # never raises
