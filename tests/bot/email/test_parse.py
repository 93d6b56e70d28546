"""bot.email.parse: real-world shapes of inbound mail, and garbage that must not crash it."""

from __future__ import annotations

import base64
import datetime as dt
import random
import time
from email.message import EmailMessage
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

from bot.email.parse import Attachment, InboundEmail, html_to_text, parse

SIMPLE = (
    b"Return-Path: <ann@example.com>\r\n"
    b"From: \"Ann =?utf-8?q?M=C3=BCller?=\" <Ann.Mueller@Example.COM>\r\n"
    b"To: Support <Support@Northwind.example>, billing@northwind.example\r\n"
    b"Cc: bob@example.com\r\n"
    b"Subject: =?utf-8?q?R=C3=A9?= invoice INV-1042\r\n"
    b"Date: Mon, 16 Nov 2026 10:00:00 +0100\r\n"
    b"Message-ID: <CAF+abc123@mail.example.com>\r\n"
    b"In-Reply-To: <reminder-1042@northwind.example>\r\n"
    b"References: <first@northwind.example>\r\n <reminder-1042@northwind.example>\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"\r\n"
    b"Hello, what do I owe?\r\n"
)


def test_simple_message_fields():
    email = parse(SIMPLE)
    assert isinstance(email, InboundEmail)
    assert email.message_id == "CAF+abc123@mail.example.com"
    assert email.in_reply_to == "reminder-1042@northwind.example"
    assert email.references == ["first@northwind.example", "reminder-1042@northwind.example"]
    assert email.from_address == "ann.mueller@example.com"
    assert email.from_name == "Ann Müller"
    assert email.to == ["support@northwind.example", "billing@northwind.example"]
    assert email.cc == ["bob@example.com"]
    assert email.subject == "Ré invoice INV-1042"
    assert email.date == dt.datetime(2026, 11, 16, 9, 0, tzinfo=dt.timezone.utc)
    assert email.text == "Hello, what do I owe?"
    assert email.text_source == "plain"
    assert email.headers["return-path"] == "<ann@example.com>"
    assert email.problems == []
    assert email.raw == SIMPLE and email.size == len(SIMPLE)


def _message(body: str, subtype: str = "plain", charset: str = "utf-8", cte: str = None) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "ann@example.com"
    msg["To"] = "support@northwind.example"
    msg["Subject"] = "Question"
    msg["Message-ID"] = "<q1@example.com>"
    msg.set_content(body, subtype=subtype, charset=charset, cte=cte)
    return msg


def test_html_only_mail_becomes_readable_text_without_script_or_style():
    html = (
        "<html><head><title>Mail</title><style>p {color: red}</style></head><body>"
        "<script>alert('x')</script>"
        "<p>Hi&nbsp;team,</p><p>I was charged <b>twice</b> &amp; need a refund.</p>"
        "<ul><li>INV-1042</li><li>INV-1043</li></ul>"
        "<div>Thanks<br>Ann</div>"
        "<blockquote><p>Your invoice is overdue.</p></blockquote>"
        "</body></html>"
    )
    email = parse(_message(html, subtype="html").as_bytes())
    assert email.text_source == "html"
    assert "alert" not in email.text and "color" not in email.text and "Mail" not in email.text
    assert email.text.splitlines() == [
        "Hi team,", "", "I was charged twice & need a refund.", "", "- INV-1042", "- INV-1043", "",
        "Thanks", "Ann", "> Your invoice is overdue.",
    ]


def test_alternative_prefers_plain_text():
    msg = _message("Plain version")
    msg.add_alternative("<p>HTML version</p>", subtype="html")
    email = parse(msg.as_bytes())
    assert email.text == "Plain version"
    assert email.text_source == "plain"
    assert email.attachments == []


def test_html_to_text_survives_broken_markup():
    assert "hello" in html_to_text("<p>hello<div><![if !supportLists]>x<![endif]></p></div")
    assert html_to_text("<<<>>>&#xZZ;") is not None


def test_latin1_body():
    raw = _message("Café à Zürich, 50 €?".replace(" €", ""), charset="iso-8859-1", cte="quoted-printable").as_bytes()
    assert b"=E9" in raw  # really encoded as latin-1 quoted-printable
    email = parse(raw)
    assert email.text == "Café à Zürich, 50?"
    assert email.problems == []


def test_windows_1252_body():
    body = "I paid \u20ac120 \u201cby card\u201d".encode("cp1252")
    raw = (
        b"From: a@example.com\r\nMessage-ID: <w@x>\r\nContent-Type: text/plain; charset=windows-1252\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\n" + body
    )
    assert parse(raw).text == "I paid \u20ac120 \u201cby card\u201d"


def test_iso_2022_jp_body_and_subject():
    text = "請求書の支払いについて"
    raw = (
        b"From: =?iso-2022-jp?b?" + base64.b64encode("山田".encode("iso-2022-jp")) + b"?= <yamada@example.jp>\r\n"
        b"Subject: =?iso-2022-jp?b?" + base64.b64encode(text.encode("iso-2022-jp")) + b"?=\r\n"
        b"Message-ID: <jp@x>\r\nContent-Type: text/plain; charset=ISO-2022-JP\r\nContent-Transfer-Encoding: 7bit\r\n\r\n"
        + text.encode("iso-2022-jp")
    )
    email = parse(raw)
    assert email.from_name == "山田"
    assert email.subject == text
    assert email.text == text
    assert email.problems == []


def test_unknown_charset_falls_back_and_says_so():
    raw = (
        b"From: a@example.com\r\nMessage-ID: <u@x>\r\nContent-Type: text/plain; charset=x-klingon\r\n\r\n"
        b"caf\xe9 bill"
    )
    email = parse(raw)
    assert email.text == "caf\xe9 bill"  # latin-1 fallback: every byte kept
    assert any("unknown charset 'x-klingon'" in p for p in email.problems)


def test_wrong_charset_replaces_and_says_so():
    raw = b"From: a@example.com\r\nMessage-ID: <u@x>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nbad \xff\xfe byte"
    email = parse(raw)
    assert email.text == "bad \ufffd\ufffd byte"
    assert any("invalid in charset utf-8" in p for p in email.problems)


def test_unlabelled_8bit_utf8_is_decoded():
    raw = "From: a@example.com\r\nMessage-ID: <u@x>\r\nSubject: Grüße\r\n\r\nGrüße aus Köln".encode("utf-8")
    email = parse(raw)
    assert email.text == "Grüße aus Köln"
    assert email.subject == "Grüße"


def test_non_text_codec_is_not_used_as_charset():
    raw = b"From: a@example.com\r\nMessage-ID: <u@x>\r\nContent-Type: text/plain; charset=base64\r\n\r\nhello"
    email = parse(raw)
    assert email.text == "hello"
    assert any("unknown charset 'base64'" in p for p in email.problems)


def test_base64_body():
    raw = _message("Please send me the payment link.\nAccount 12345678.", cte="base64").as_bytes()
    assert b"Content-Transfer-Encoding: base64" in raw
    assert parse(raw).text == "Please send me the payment link.\nAccount 12345678."


def test_quoted_printable_body():
    body = "Lange Zeile " * 20 + "über den Betrag"
    raw = _message(body, cte="quoted-printable").as_bytes()
    assert b"=\n" in raw or b"=\r\n" in raw  # soft line breaks
    assert parse(raw).text == body.strip()


def test_attachment_is_metadata_only():
    msg = MIMEMultipart()
    msg["From"] = "ann@example.com"
    msg["Message-ID"] = "<att@x>"
    msg.attach(MIMEText("Receipt attached.", "plain", "utf-8"))
    pdf = MIMEApplication(b"%PDF-1.4 " + b"x" * 1000, "pdf")
    pdf.add_header("Content-Disposition", "attachment", filename=("utf-8", "", "Quittung März.pdf"))
    msg.attach(pdf)
    text_file = MIMEText("a,b\n1,2\n", "plain", "utf-8")
    text_file.add_header("Content-Disposition", "attachment", filename="../../etc/data.csv")
    msg.attach(text_file)
    email = parse(msg.as_bytes())
    assert email.text == "Receipt attached."
    assert email.attachments == [
        Attachment("Quittung März.pdf", "application/pdf", 1009),
        Attachment("data.csv", "text/plain", 8),
    ]


def test_missing_message_id():
    email = parse(b"From: a@example.com\r\nSubject: hi\r\n\r\nbody")
    assert email.message_id is None
    assert "missing Message-ID" in email.problems
    assert email.text == "body"


def test_message_id_without_brackets_and_garbage():
    assert parse(b"Message-ID: abc@host\r\n\r\nx").message_id == "abc@host"
    email = parse(b"Message-ID: not an id\r\n\r\nx")
    assert email.message_id is None
    assert "unusable Message-ID" in email.problems


def test_malformed_mime_boundary_keeps_the_text():
    raw = (
        b"From: a@example.com\r\nMessage-ID: <b@x>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="XYZ"\r\n\r\n'
        b"--WRONG\r\nContent-Type: text/plain\r\n\r\nMy card was declined, please help.\r\n--WRONG--\r\n"
    )
    email = parse(raw)
    assert "My card was declined, please help." in email.text
    assert any("boundary" in p.lower() for p in email.problems)


def test_truncated_multipart_keeps_the_first_part():
    raw = (
        b"From: a@example.com\r\nMessage-ID: <t@x>\r\n"
        b'Content-Type: multipart/alternative; boundary="B"\r\n\r\n'
        b"--B\r\nContent-Type: text/plain\r\n\r\nWhen is my payment due?\r\n--B\r\nContent-Type: text/html\r\n\r\n<p>When"
    )
    email = parse(raw)
    assert email.text == "When is my payment due?"
    assert any("CloseBoundaryNotFound" in p for p in email.problems)


def test_five_megabyte_body_is_capped():
    body = ("Please call me back about my invoice. " * 140_000)[: 5 * 1024 * 1024]
    raw = _message(body).as_bytes()
    assert len(raw) > 5 * 1024 * 1024
    started = time.monotonic()
    email = parse(raw)
    assert time.monotonic() - started < 10
    assert len(email.text) == 20_000
    assert email.text.startswith("Please call me back")
    assert email.truncated
    assert "text truncated to 20000 characters" in email.problems


def test_five_megabyte_html_body_is_capped():
    html = "<p>Need help with my bill.</p>" * 180_000
    email = parse(_message(html, subtype="html").as_bytes(), max_text_chars=500)
    assert len(email.text) == 500
    assert email.text.startswith("Need help with my bill.")
    assert email.truncated


def test_configurable_cap():
    email = parse(_message("x" * 100).as_bytes(), max_text_chars=10)
    assert email.text == "x" * 10 and email.truncated


def test_loop_safety_headers_are_kept():
    raw = (
        b"From: a@example.com\r\nMessage-ID: <h@x>\r\nAuto-Submitted: auto-replied\r\nPrecedence: bulk\r\n"
        b"List-Id: <news.example.com>\r\nList-Unsubscribe: <mailto:u@example.com>\r\nX-Autoreply: yes\r\n"
        b"X-Autorespond: yes\r\nX-Auto-Response-Suppress: All\r\nReturn-Path: <>\r\n\r\nx"
    )
    headers = parse(raw).headers
    assert headers["auto-submitted"] == "auto-replied"
    assert headers["precedence"] == "bulk"
    assert headers["list-id"] == "<news.example.com>"
    assert headers["list-unsubscribe"] == "<mailto:u@example.com>"
    assert headers["x-autoreply"] == "yes"
    assert headers["x-autorespond"] == "yes"
    assert headers["x-auto-response-suppress"] == "All"
    assert headers["return-path"] == "<>"


def test_header_injection_and_nul_are_neutralised():
    raw = (
        b"From: a@example.com\r\nMessage-ID: <i@x>\r\n"
        b"Subject: =?utf-8?q?Hi=0D=0ABcc=3A_victim=40example=2Ecom?=\r\n\r\nbody\x00 with nul"
    )
    email = parse(raw)
    assert "\n" not in email.subject and "\r" not in email.subject
    assert email.subject == "Hi Bcc: victim@example.com"
    assert email.text == "body with nul"


def test_dates():
    assert parse(b"Date: Mon, 16 Nov 2026 10:00:00 -0000\r\n\r\nx").date == dt.datetime(
        2026, 11, 16, 10, 0, tzinfo=dt.timezone.utc
    )
    email = parse(b"Date: yesterday-ish\r\n\r\nx")
    assert email.date is None
    assert "unparseable Date header" in email.problems


def test_missing_or_bad_from():
    assert "missing From" in parse(b"Subject: x\r\n\r\nx").problems
    email = parse(b"From: not an address\r\n\r\nx")
    assert email.from_address is None
    assert "unusable From address" in email.problems


def test_str_input_is_accepted():
    assert parse(SIMPLE.decode()).message_id == "CAF+abc123@mail.example.com"


def _assert_sane(email):
    assert isinstance(email, InboundEmail)
    assert isinstance(email.text, str) and len(email.text) <= 20_000
    for value in [email.subject, email.from_address or "", email.message_id or "", *email.headers.values()]:
        assert "\n" not in value and "\r" not in value and "\x00" not in value
    assert "\x00" not in email.text


def test_fuzz_never_raises():
    rng = random.Random(4)
    complex_message = MIMEMultipart()
    complex_message["From"] = "Ann <ann@example.com>"
    complex_message["Message-ID"] = "<c@x>"
    complex_message.attach(MIMEText("Hello <b>there</b>", "html", "iso-8859-1"))
    complex_message.attach(MIMEApplication(b"\x00\x01" * 100, "octet-stream"))
    seeds = [SIMPLE, complex_message.as_bytes(), _message("x\u20ac", charset="utf-8", cte="base64").as_bytes()]
    inputs = [b"", b"\r\n", b"\x00" * 50, b":" * 1000, b"Content-Type: multipart/mixed\r\n\r\n--\r\n"]
    inputs += [bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 3000))) for _ in range(150)]
    for seed in seeds:
        inputs += [seed[: rng.randint(0, len(seed))] for _ in range(60)]  # truncated
        for _ in range(60):  # mutated
            data = bytearray(seed)
            for _ in range(rng.randint(1, 20)):
                data[rng.randrange(len(data))] = rng.choice(b"\x00\xff<>\r\n;=\"-:?")
            inputs.append(bytes(data))
    nested = b"Content-Type: multipart/mixed; boundary=b\r\n\r\n" + b"--b\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" * 3000
    inputs.append(nested)
    for data in inputs:
        _assert_sane(parse(data))


# -- issue 13: lenient senders --------------------------------------------------------------------


def test_from_without_angle_brackets():
    email = parse(b"From: Big Bug bb@bug.com\r\nSubject: x\r\n\r\nhi")
    assert (email.from_address, email.from_name) == ("bb@bug.com", "Big Bug")


def test_blank_lines_before_the_headers_are_skipped_and_noted():
    email = parse(b"\r\n \r\nFrom: Ann <ann@example.com>\r\nSubject: Late fee\r\n\r\nWhy?")
    assert (email.from_address, email.subject, email.text) == ("ann@example.com", "Late fee", "Why?")
    assert "blank lines before the headers" in email.problems


def test_encoded_words_in_the_sender_name():
    email = parse(b"From: =?utf-8?q?J=C3=B3zef_Kowalczyk?= <jozef@example.pl>\r\n\r\nx")
    assert (email.from_address, email.from_name) == ("jozef@example.pl", "Józef Kowalczyk")


def test_without_a_usable_from_the_sender_then_reply_to_is_used():
    email = parse(b"From: not an address\r\nSender: Ann <ann@example.com>\r\n\r\nx")
    assert email.from_address == "ann@example.com"
    assert "no usable From address; using Sender" in email.problems
    email = parse(b"Reply-To: bob@example.com\r\n\r\nx")
    assert email.from_address == "bob@example.com" and "missing From" in email.problems


def test_answers_go_to_reply_to_when_given():
    email = parse(b"From: Office <office@smallbiz.example>\r\nReply-To: accounts@smallbiz.example\r\n\r\nx")
    assert email.from_address == "office@smallbiz.example"
    assert email.reply_address == "accounts@smallbiz.example"
    assert parse(b"From: ann@example.com\r\n\r\nx").reply_address == "ann@example.com"


def test_a_message_the_parser_cannot_read_is_kept_as_raw_text(monkeypatch):
    """The last resort: whatever breaks inside the parser, the message's text reaches an agent."""
    from bot.email import parse as parse_module

    def broken(raw, limit):
        raise RecursionError("nested too deep")

    monkeypatch.setattr(parse_module, "_parse", broken)
    email = parse(b"From: a@example.com\r\n\r\nMy meter reads 12345.\r\n\r\n\r\n\r\nThanks\x00\r\n")
    assert email.text == "From: a@example.com\n\nMy meter reads 12345.\n\nThanks"
    assert email.text_source == "raw"
    assert email.problems == ["unparseable message (RecursionError); kept as raw text"]
