"""bot.email.body: which parts are the readable text, and attachments as metadata only.
(The whole parse, body included, is tested through ``parse`` in test_parse.py.)"""

from __future__ import annotations

import email
import email.policy

from bot.email.body import Attachment, content_type, parts, read_body


def _msg(raw: bytes):
    return email.message_from_bytes(raw, policy=email.policy.compat32)


ALTERNATIVE_WITH_PDF = (
    b'Content-Type: multipart/mixed; boundary="M"\r\n\r\n--M\r\n'
    b'Content-Type: multipart/alternative; boundary="A"\r\n\r\n'
    b"--A\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nZa\xc5\xbc\xc3\xb3\xc5\x82\xc4\x87 rachunek\r\n"
    b"--A\r\nContent-Type: text/html\r\n\r\n<p>HTML copy</p>\r\n--A--\r\n"
    b'--M\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename="bill.pdf"\r\n'
    b"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n--M--\r\n")


def test_plain_text_wins_and_attachments_are_metadata():
    problems = []
    text, source, attachments = read_body(_msg(ALTERNATIVE_WITH_PDF), problems, 20_000)
    assert (text, source) == ("Zażółć rachunek", "plain")
    assert attachments == [Attachment("bill.pdf", "application/pdf", 5)]
    assert problems == []


def test_a_multipart_whose_boundary_is_missing_is_read_as_raw_text_and_said():
    problems = []
    text, source, _ = read_body(_msg(b'Content-Type: multipart/mixed; boundary="X"\r\n\r\nJust words\r\n'), problems, 100)
    assert (text, source) == ("Just words", "raw")
    assert problems == ["broken MIME: multipart/mixed without its parts (boundary not found)"]


def test_parts_do_not_enter_a_returned_message():
    raw = (b'Content-Type: multipart/mixed; boundary="M"\r\n\r\n--M\r\nContent-Type: text/plain\r\n\r\nHi\r\n'
           b"--M\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\nInner text\r\n--M--\r\n")
    assert [content_type(p) for p in parts(_msg(raw))] == ["multipart/mixed", "text/plain", "message/rfc822"]
