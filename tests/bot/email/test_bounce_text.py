"""bot.email.bounce_text: plain-text delivery reports, read from the server's own words."""

from __future__ import annotations

from bot.email import report_text as rt
from bot.email.bounce_text import bounce_from_text, looks_like_report

QMAIL_HELO = b"""\
From: MAILER-DAEMON@mx.northwind.example
To: billing@northwind.example
Subject: failure notice

Hi. This is the qmail-send program at mx.northwind.example.
I'm afraid I wasn't able to deliver your message to the following addresses.
This is a permanent error; I've given up. Sorry it didn't work out.

<ann@customer.example>:
Connected to 192.0.2.112 but my name was rejected.
Remote host said: 501 5.0.0 Invalid domain name

--- Below this line is a copy of the message.

From: billing@northwind.example
To: ann@customer.example
Message-ID: <r7@northwind.example>

Hello
""".replace(b"\n", b"\r\n")

VERIZON_STYLE = b"""\
From: MAILER-DAEMON@vtext.example
To: billing@northwind.example
Subject: Undeliverable Message

Error: Invalid user address

Error message below:
550 - Requested action not taken: no such user here

Message details:
  Subject: Payment reminder
  MAIL FROM: bounces@northwind.example
  RCPT TO: gone@vtext.example
  From: billing-team@northwind.example
  Size (in bytes): 222
""".replace(b"\n", b"\r\n")


def test_a_refusal_of_our_helo_name_is_blocked_and_soft_whatever_it_says_about_domains():
    bounce = bounce_from_text(rt.message_from(QMAIL_HELO))
    (recipient,) = bounce.recipients
    assert recipient.address == "ann@customer.example"
    assert (recipient.reason, recipient.hard) == ("blocked", False)
    assert bounce.original_message_id == "r7@northwind.example"


def test_addresses_the_report_labels_as_our_sender_are_never_failed_recipients():
    bounce = bounce_from_text(rt.message_from(VERIZON_STYLE))
    assert bounce.addresses == ["gone@vtext.example"]


def test_a_person_writing_about_a_failure_is_no_report():
    msg = rt.message_from(b"From: ann@customer.example\r\nSubject: Undelivered?\r\n\r\nMy mail to bob@example.com was rejected.\r\n")
    assert not looks_like_report(msg)
    assert bounce_from_text(msg) is None
