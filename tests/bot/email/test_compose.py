"""Composing outgoing mail: headers, threading, RFC 3834, header injection refused."""

import pytest

from bot.email import compose, errors


def test_a_reply_threads_and_says_it_was_automatic():
    msg = compose.message(
        sender="Northwind Billing <billing@northwind.example>", to="li@example.com", subject="Re: my bill",
        text="Hello Li", html="<p>Hello Li</p>", message_id="<reply.1@northwind.example>",
        in_reply_to="<abc@mail.example>", references=["<first@mail.example>", "<abc@mail.example>"],
        auto_submitted="auto-replied")
    assert msg["Message-ID"] == "<reply.1@northwind.example>"
    assert msg["In-Reply-To"] == "<abc@mail.example>"
    assert msg["References"] == "<first@mail.example> <abc@mail.example>"
    assert msg["Auto-Submitted"] == "auto-replied"
    assert msg.get_body(("plain",)).get_content().strip() == "Hello Li"
    assert msg.get_body(("html",)).get_content().strip() == "<p>Hello Li</p>"


def test_message_ids_are_stable_and_safe():
    assert compose.message_id("reminder.INV-20015.friendly", "northwind.example") == \
        "<reminder.INV-20015.friendly@northwind.example>"
    assert compose.message_id("a b<c>", "x.example") == "<a-b-c-@x.example>"
    assert compose.domain_of("Billing <billing@northwind.example>") == "northwind.example"


@pytest.mark.parametrize("field, value", [
    ("subject", "Hello\r\nBcc: victim@example.com"),
    ("to", "li@example.com\nBcc: victim@example.com"),
    ("to", "not an address"),
    ("in_reply_to", "<a@b>\r\nX-Evil: 1"),
])
def test_line_breaks_in_headers_are_refused(field, value):
    values = dict(sender="billing@northwind.example", to="li@example.com", subject="Hi", text="x",
                  message_id="<m@northwind.example>")
    values[field] = value
    with pytest.raises(errors.HeaderInjection):
        compose.message(**values)
