"""bot.email.bounces: DSNs as Postfix, Gmail and Exim send them, and mail that is not a bounce."""

from __future__ import annotations

from bot.email.bounces import Bounce, BouncedRecipient, parse_bounce
from bot.email.parse import parse

POSTFIX_DSN = b"""\
Return-Path: <>
Received: by mx.northwind.example (Postfix) id 4F1C2; Mon, 16 Nov 2026 10:00:05 +0000 (UTC)
Date: Mon, 16 Nov 2026 10:00:05 +0000 (UTC)
From: MAILER-DAEMON@mx.northwind.example (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: billing@northwind.example
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="4F1C2.1795000005/mx.northwind.example"
Message-Id: <20261116100005.4F1C2@mx.northwind.example>

This is a MIME-encapsulated message.

--4F1C2.1795000005/mx.northwind.example
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.northwind.example.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

<gone@customer.example>: host mx.customer.example[203.0.113.5] said: 550 5.1.1
    <gone@customer.example>: Recipient address rejected: User unknown in
    virtual mailbox table (in reply to RCPT TO command)

--4F1C2.1795000005/mx.northwind.example
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.northwind.example
X-Postfix-Queue-ID: 4F1C2
X-Postfix-Sender: rfc822; billing@northwind.example
Arrival-Date: Mon, 16 Nov 2026 10:00:04 +0000 (UTC)

Final-Recipient: rfc822; gone@customer.example
Original-Recipient: rfc822;Gone@customer.example
Action: failed
Status: 5.1.1
Remote-MTA: dns; mx.customer.example
Diagnostic-Code: smtp; 550 5.1.1 <gone@customer.example>: Recipient address
    rejected: User unknown in virtual mailbox table

--4F1C2.1795000005/mx.northwind.example
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

Return-Path: <billing@northwind.example>
From: Northwind Billing <billing@northwind.example>
To: gone@customer.example
Subject: Payment reminder: INV-1042
Message-ID: <reminder-1042.stage1@northwind.example>
Auto-Submitted: auto-generated

--4F1C2.1795000005/mx.northwind.example--
""".replace(b"\n", b"\r\n")

GMAIL_DSN = b"""\
Return-Path: <>
From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>
To: support@northwind.example
Auto-Submitted: auto-replied
Subject: Delivery Status Notification (Failure)
Message-ID: <5f8e.050a@mx.google.com>
X-Failed-Recipients: nobody.here@gmail.com
Content-Type: multipart/report; boundary="000000000000a1b2"; report-type=delivery-status

--000000000000a1b2
Content-Type: multipart/related; boundary="000000000000c3d4"

--000000000000c3d4
Content-Type: multipart/alternative; boundary="000000000000e5f6"

--000000000000e5f6
Content-Type: text/plain; charset="UTF-8"

** Address not found **

Your message wasn't delivered to nobody.here@gmail.com because the address couldn't be found.

--000000000000e5f6
Content-Type: text/html; charset="UTF-8"

<html><body>Address not found</body></html>

--000000000000e5f6--
--000000000000c3d4--
--000000000000a1b2
Content-Type: message/delivery-status

Reporting-MTA: dns; googlemail.com
Received-From-MTA: dns; support@northwind.example
Arrival-Date: Mon, 16 Nov 2026 02:00:00 -0800 (PST)
X-Original-Message-ID: <reply-77@northwind.example>

Final-Recipient: rfc822; nobody.here@gmail.com
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; The email account that you tried to reach does not exist.
Last-Attempt-Date: Mon, 16 Nov 2026 02:00:01 -0800 (PST)

--000000000000a1b2
Content-Type: message/rfc822

From: Northwind Support <support@northwind.example>
To: nobody.here@gmail.com
Subject: Re: my invoice
Message-ID: <reply-77@northwind.example>
In-Reply-To: <question-1@gmail.com>

Your balance is shown in your account.

--000000000000a1b2--
""".replace(b"\n", b"\r\n")

EXIM_DELAY_DSN = b"""\
From: Mail Delivery System <Mailer-Daemon@mail.exim.example>
To: billing@northwind.example
Subject: Warning: message 1kXyZ-0001Ab-Cd delayed 24 hours
Auto-Submitted: auto-replied
Message-Id: <E1kXyZ-0002@mail.exim.example>
Content-Type: multipart/report; report-type=delivery-status; boundary=1605520800-eximdsn-123

--1605520800-eximdsn-123
Content-type: text/plain; charset=us-ascii

This message was created automatically by mail delivery software.
A message that you sent has not yet been delivered to one or more of its
recipients after more than 24 hours on the queue on mail.exim.example.

  slow@busy.example
    host mx.busy.example [198.51.100.7]
    Delay reason: SMTP error from remote mail server after RCPT TO:<slow@busy.example>:
    451 4.2.2 Mailbox temporarily over quota

--1605520800-eximdsn-123
Content-type: message/delivery-status

Reporting-MTA: dns; mail.exim.example

Action: delayed
Final-Recipient: rfc822;slow@busy.example
Status: 4.2.2
Remote-MTA: dns; mx.busy.example
Diagnostic-Code: smtp; 451 4.2.2 Mailbox temporarily over quota
Will-Retry-Until: Wed, 18 Nov 2026 10:00:00 +0000

--1605520800-eximdsn-123
Content-type: text/rfc822-headers

Message-ID: <reminder-2001.stage2@northwind.example>
From: billing@northwind.example
To: slow@busy.example
Subject: Payment reminder

--1605520800-eximdsn-123--
""".replace(b"\n", b"\r\n")

EXIM_PLAIN_BOUNCE = b"""\
Return-path: <>
From: Mail Delivery System <Mailer-Daemon@old.exim.example>
To: billing@northwind.example
Subject: Mail delivery failed: returning message to sender
Message-Id: <E1aBcD-0003@old.exim.example>
X-Failed-Recipients: closed@old.example

This message was created automatically by mail delivery software.

A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:

  closed@old.example
    SMTP error from remote mail server after RCPT TO:<closed@old.example>:
    host mx.old.example [192.0.2.9]: 550 5.1.1 Mailbox closed

------ This is a copy of the message, including all the headers. ------

Return-path: <billing@northwind.example>
Message-ID: <reminder-3003.stage3@northwind.example>
From: billing@northwind.example
To: closed@old.example
Subject: Final notice

Your invoice INV-3003 is overdue.
""".replace(b"\n", b"\r\n")


def test_postfix_dsn_hard_bounce():
    bounce = parse_bounce(POSTFIX_DSN)
    assert bounce == Bounce(
        recipients=[
            BouncedRecipient(
                address="gone@customer.example",
                action="failed",
                status="5.1.1",
                diagnostic="smtp; 550 5.1.1 <gone@customer.example>: Recipient address rejected: "
                "User unknown in virtual mailbox table",
                reason="userunknown",
            )
        ],
        original_message_id="reminder-1042.stage1@northwind.example",
        certain=True,
        reporting_mta="mx.northwind.example",
    )
    assert bounce.hard
    assert bounce.addresses == ["gone@customer.example"]


def test_gmail_dsn_with_returned_message():
    bounce = parse_bounce(GMAIL_DSN)
    assert bounce.certain and bounce.hard
    assert bounce.addresses == ["nobody.here@gmail.com"]
    assert bounce.recipients[0].status == "5.1.1"
    assert bounce.recipients[0].diagnostic == "smtp; The email account that you tried to reach does not exist."
    assert bounce.original_message_id == "reply-77@northwind.example"


def test_exim_delayed_dsn_is_soft():
    bounce = parse_bounce(EXIM_DELAY_DSN)
    assert bounce.certain
    assert not bounce.hard
    assert bounce.recipients == [
        BouncedRecipient("slow@busy.example", "delayed", "4.2.2", "smtp; 451 4.2.2 Mailbox temporarily over quota",
                         "mailboxfull")
    ]
    assert bounce.original_message_id == "reminder-2001.stage2@northwind.example"


def test_old_style_exim_bounce_names_its_failed_recipient():
    bounce = parse_bounce(EXIM_PLAIN_BOUNCE)
    assert bounce is not None
    assert bounce.certain and bounce.source == "text"
    assert bounce.addresses == ["closed@old.example"]
    assert bounce.recipients[0].status == "5.1.1"
    assert bounce.hard
    assert "550 5.1.1 Mailbox closed" in bounce.recipients[0].diagnostic
    assert bounce.original_message_id == "reminder-3003.stage3@northwind.example"


def test_plain_bounce_without_failed_recipients_header_reads_the_servers_words():
    raw = EXIM_PLAIN_BOUNCE.replace(b"X-Failed-Recipients: closed@old.example\r\n", b"")
    bounce = parse_bounce(raw)
    assert bounce is not None and bounce.certain
    assert bounce.addresses == ["closed@old.example"]


def test_accepts_a_parsed_email():
    email = parse(POSTFIX_DSN)
    assert email.content_type == "multipart/report"
    assert parse_bounce(email).original_message_id == "reminder-1042.stage1@northwind.example"


def test_dsn_for_a_successful_delivery_is_not_a_bounce():
    raw = POSTFIX_DSN.replace(b"Action: failed", b"Action: delivered").replace(b"Status: 5.1.1", b"Status: 2.0.0")
    assert parse_bounce(raw) is None


def test_customer_mail_is_not_a_bounce():
    raw = b"From: ann@example.com\r\nSubject: Undeliverable?\r\nMessage-ID: <a@b>\r\n\r\nThe following address failed: x@y.example\r\n"
    assert parse_bounce(raw) is None
    assert parse_bounce(parse(raw)) is None


def test_mailer_daemon_mail_without_failure_wording_is_not_a_bounce():
    raw = b"From: MAILER-DAEMON@example.com\r\nSubject: Hello\r\n\r\nJust a notice.\r\n"
    assert parse_bounce(raw) is None


def test_read_receipt_is_not_a_bounce():
    raw = (
        b"From: Ann <ann@example.com>\r\nTo: support@northwind.example\r\nSubject: Read: Payment reminder\r\n"
        b"Message-ID: <mdn-1@example.com>\r\n"
        b'Content-Type: multipart/report; report-type=disposition-notification; boundary="R"\r\n\r\n'
        b"--R\r\nContent-Type: text/plain\r\n\r\nYour message was read.\r\n"
        b"--R\r\nContent-Type: message/disposition-notification\r\n\r\n"
        b"Final-Recipient: rfc822; ann@example.com\r\nOriginal-Message-ID: <reminder-1@northwind.example>\r\n"
        b"Disposition: manual-action/MDN-sent-manually; displayed\r\n\r\n--R--\r\n"
    )
    assert parse_bounce(raw) is None


def test_report_of_wrong_type_is_still_read_from_its_delivery_status_fields():
    raw = POSTFIX_DSN.replace(b"report-type=delivery-status", b"report-type=something-else")
    bounce = parse_bounce(raw)
    assert bounce.certain and bounce.source == "dsn"
    assert bounce.addresses == ["gone@customer.example"]  # never our own address from the returned headers
    assert bounce.hard
    assert bounce.original_message_id == "reminder-1042.stage1@northwind.example"


def test_garbage_never_raises():
    for raw in [b"", b"\x00\xff", POSTFIX_DSN[:700], POSTFIX_DSN[:1900], GMAIL_DSN[:-200], b"Content-Type: multipart/report"]:
        result = parse_bounce(raw)
        assert result is None or isinstance(result, Bounce)
    assert parse_bounce(None) is None


# -- issue 13: plain-text reports of real servers -------------------------------------------------

QMAIL_TWO = (
    b"Return-Path: <>\r\nFrom: MAILER-DAEMON@mx.example.com\r\nTo: billing@northwind.example\r\nSubject: failure notice\r\n\r\n"
    b"Hi. This is the qmail-send program at mx.example.com.\r\n"
    b"I'm afraid I wasn't able to deliver your message to the following addresses.\r\n\r\n"
    b"<gone@example.jp>:\r\n192.0.2.153 does not like recipient.\r\nRemote host said: 550 5.1.1 <gone@example.jp>... User Unknown\r\n\r\n"
    b"<full@example.jp>:\r\n192.0.2.153 does not like recipient.\r\nRemote host said: 552 5.2.2 <full@example.jp>... Mailbox full\r\n\r\n"
    b"--- Below this line is a copy of the message.\r\n\r\nMessage-ID: <r9@northwind.example>\r\n"
    b"From: billing@northwind.example\r\nTo: gone@example.jp, full@example.jp\r\n\r\nHi\r\n")


def test_qmail_names_each_recipient_with_its_own_reason():
    bounce = parse_bounce(QMAIL_TWO)
    assert bounce.certain and bounce.source == "text"
    assert [(r.address, r.reason, r.status, r.hard) for r in bounce.recipients] == [
        ("gone@example.jp", "userunknown", "5.1.1", True), ("full@example.jp", "mailboxfull", "5.2.2", False)]
    assert bounce.original_message_id == "r9@northwind.example"


def test_amazon_ses_bounce_notification():
    raw = (b"From: no-reply@sns.amazonaws.com\r\nSubject: AWS Notification Message\r\n\r\n"
           b'{"notificationType":"Bounce","bounce":{"bounceType":"Permanent","bounceSubType":"General",'
           b'"bouncedRecipients":[{"emailAddress":"gone@example.com","status":"5.1.1",'
           b'"diagnosticCode":"smtp; 550 5.1.1 user unknown"}]},"mail":{"messageId":"0101abc"}}\r\n')
    bounce = parse_bounce(raw)
    assert bounce.source == "ses" and bounce.addresses == ["gone@example.com"] and bounce.hard


def test_a_report_whose_boundary_is_wrong_is_still_read():
    raw = POSTFIX_DSN.replace(b'boundary="', b'boundary="WRONG', 1)
    bounce = parse_bounce(raw)
    assert bounce.addresses == ["gone@customer.example"] and bounce.hard


def test_only_our_returned_message_names_the_recipient_so_it_is_a_guess():
    raw = (b"From: MAILER-DAEMON@mx.example.com\r\nSubject: Undelivered Mail Returned to Sender\r\n"
           b'Content-Type: multipart/mixed; boundary="M"\r\n\r\n--M\r\nContent-Type: text/plain\r\n\r\n'
           b"Your message could not be delivered.\r\n--M\r\nContent-Type: message/rfc822\r\n\r\n"
           b"From: billing@northwind.example\r\nTo: ann@example.com\r\nMessage-ID: <r1@northwind.example>\r\n\r\nHi\r\n--M--\r\n")
    bounce = parse_bounce(raw)
    assert bounce.addresses == ["ann@example.com"] and not bounce.certain
    assert "no failed recipient named; taken from the returned message" in bounce.problems


def test_a_customer_asking_about_an_undelivered_email_is_no_bounce():
    question = b"From: ann@example.com\r\nSubject: Returned mail?\r\n\r\nMy email could not be delivered to bob@example.com, why?\r\n"
    assert parse_bounce(question) is None


def _dsn(diagnostic: bytes, status: bytes = b"5.0.0", text: bytes = b"") -> bytes:
    """A minimal RFC 3464 report for gone@customer.example with the server's words in ``text``."""
    return (b"From: MAILER-DAEMON@mx.northwind.example\r\nSubject: Undelivered Mail Returned to Sender\r\n"
            b'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
            b"--B\r\nContent-Type: text/plain\r\n\r\n<gone@customer.example>: " + text + b"\r\n"
            b"--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.northwind.example\r\n\r\n"
            b"Final-Recipient: rfc822; gone@customer.example\r\nAction: failed\r\nStatus: " + status + b"\r\n"
            b"Diagnostic-Code: smtp; " + diagnostic + b"\r\n--B--\r\n")


def test_user_unknown_in_answer_to_rcpt_is_hard():
    bounce = parse_bounce(_dsn(b"550 User unknown", text=b"host mx said: 550 User unknown (in reply to RCPT TO command)"))
    (recipient,) = bounce.recipients
    assert (recipient.reason, recipient.hard) == ("userunknown", True)


def test_a_remote_user_unknown_naming_no_command_nor_address_status_is_filtered_and_soft():
    # What filtering gateways and mobile carriers answer to refuse a sender; repeated, it still adds up.
    bounce = parse_bounce(_dsn(b"550 : User unknown", text=b"host mx said: 550 : User unknown"))
    (recipient,) = bounce.recipients
    assert (recipient.reason, recipient.hard) == ("filtered", False)


def test_the_servers_own_status_wins_over_a_bare_class_in_the_status_field():
    bounce = parse_bounce(_dsn(b"550 5.1.1 <gone@customer.example>: User unknown"))
    (recipient,) = bounce.recipients
    assert (recipient.status, recipient.reason, recipient.hard) == ("5.1.1", "userunknown", True)


def test_a_refusal_of_our_sender_domain_after_data_is_not_about_the_recipient():
    text = b"SMTP error from remote mail server after end of data:\r\n550 5.2.0 <billing@northwind.example> domain is invalid"
    bounce = parse_bounce(_dsn(b"550 5.2.0 <billing@northwind.example> domain is invalid", status=b"5.2.0", text=text))
    (recipient,) = bounce.recipients
    assert (recipient.reason, recipient.hard) == ("rejected", False)
