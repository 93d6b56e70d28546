"""bot.email.report_text: the server's own words apart from the copy of our message."""

from __future__ import annotations

from bot.email import report_text as rt

QMAIL = (b"\r\n\r\nFrom: MAILER-DAEMON@mx.example.com\r\nSubject: failure notice\r\n\r\n"
         b"I'm afraid I wasn't able to deliver your message to the following addresses.\r\n\r\n"
         b"<gone@example.jp>:\r\nRemote host said: 550 5.1.1 User Unknown\r\n\r\n"
         b"--- Below this line is a copy of the message.\r\n\r\n"
         b"Message-ID: <r1@northwind.example>\r\nTo: gone@example.jp\r\nFrom: billing@northwind.example\r\n\r\nDear customer\r\n")


def test_blank_lines_before_the_headers_are_dropped():
    msg = rt.message_from(QMAIL)
    assert msg["subject"] == "failure notice"


def test_server_words_stop_where_our_message_is_pasted():
    words = rt.server_words(rt.message_from(QMAIL))
    assert "550 5.1.1 User Unknown" in words
    assert "Dear customer" not in words and "billing@northwind.example" not in words


def test_the_returned_headers_are_read_from_after_the_marker():
    headers = rt.returned_headers(rt.message_from(QMAIL))
    assert rt.first_id(headers["message-id"]) == "r1@northwind.example"
    assert rt.header_addresses(headers, "to") == ["gone@example.jp"]


def test_a_header_block_without_a_marker_also_ends_the_servers_words():
    raw = (b"From: MAILER-DAEMON@mx.example.com\r\n\r\nDelivery failed for <a@b.example>.\r\n\r\n"
           b"Received: from x\r\nFrom: billing@northwind.example\r\nTo: a@b.example\r\n\r\nHi\r\n")
    assert rt.server_words(rt.message_from(raw)).strip() == "Delivery failed for <a@b.example>."


def test_a_multipart_whose_boundary_is_wrong_is_read_as_text():
    raw = (b'From: MAILER-DAEMON@mx.example.com\r\nContent-Type: multipart/report; boundary="WRONG"\r\n\r\n'
           b"--RIGHT\r\nContent-Type: text/plain\r\n\r\nThe mail system: <a@b.example> user unknown\r\n--RIGHT--\r\n")
    msg = rt.message_from(raw)
    assert rt.unsplit_multipart(msg)
    assert "<a@b.example> user unknown" in rt.plain_texts(msg)
    assert "<a@b.example> user unknown" in rt.server_words(msg)
