"""bot.email.loop_safety: every automatic-mail sign from issue 4 blocks an automatic reply."""

from __future__ import annotations

import pytest

from bot.email.loop_safety import automatic_reason
from bot.email.parse import parse

OWN = ["support@northwind.example", "Billing@Northwind.example"]


def _mail(headers: str = "", sender: str = "ann@example.com") -> bytes:
    return (f"From: Ann <{sender}>\r\nTo: support@northwind.example\r\nMessage-ID: <m@x>\r\n"
            f"Subject: Question\r\n{headers}\r\nWhat do I owe?\r\n").encode()


def test_a_customer_question_may_be_answered():
    assert automatic_reason(parse(_mail()), OWN) is None


@pytest.mark.parametrize("value", ["no", "No", "no; comment", "  NO  "])
def test_auto_submitted_no_is_a_person(value):
    assert automatic_reason(parse(_mail(f"Auto-Submitted: {value}\r\n")), OWN) is None


@pytest.mark.parametrize(
    "value", ["auto-replied", "auto-generated", "auto-notified", "Auto-Replied", "auto-generated; owner=x", "yes", ""]
)
def test_auto_submitted_other_than_no(value):
    reason = automatic_reason(parse(_mail(f"Auto-Submitted: {value}\r\n")), OWN)
    assert reason is not None and reason.startswith("Auto-Submitted")


@pytest.mark.parametrize("value", ["bulk", "list", "junk", "auto_reply", "BULK", " List "])
def test_precedence(value):
    reason = automatic_reason(parse(_mail(f"Precedence: {value}\r\n")), OWN)
    assert reason is not None and reason.startswith("Precedence")


def test_precedence_first_class_is_a_person():
    assert automatic_reason(parse(_mail("Precedence: first-class\r\n")), OWN) is None


@pytest.mark.parametrize(
    "header, name",
    [
        ("List-Id: Customers <customers.lists.example.com>", "List-ID"),
        ("List-Unsubscribe: <mailto:unsubscribe@example.com>", "List-Unsubscribe"),
        ("X-Autoreply: yes", "X-Autoreply"),
        ("X-Autorespond: Vacation", "X-Autorespond"),
        ("X-Auto-Response-Suppress: All", "X-Auto-Response-Suppress"),
        ("X-Auto-Response-Suppress: OOF, AutoReply", "X-Auto-Response-Suppress"),
        ("X-Auto-Response-Suppress: None", "X-Auto-Response-Suppress"),
    ],
)
def test_headers_whose_presence_is_enough(header, name):
    assert automatic_reason(parse(_mail(header + "\r\n")), OWN) == f"{name} header present"


@pytest.mark.parametrize("value", ["<>", "< >", "  <>"])
def test_empty_return_path(value):
    reason = automatic_reason(parse(_mail(f"Return-Path: {value}\r\n")), OWN)
    assert reason is not None and "Return-Path" in reason


def test_normal_return_path_is_fine():
    assert automatic_reason(parse(_mail("Return-Path: <ann@example.com>\r\n")), OWN) is None


@pytest.mark.parametrize(
    "sender",
    [
        "MAILER-DAEMON@mx.example.com", "mailer-daemon@googlemail.com", "postmaster@example.com",
        "no-reply@accounts.example.com", "noreply@example.com", "NoReply@Example.com", "do-not-reply@bank.example",
        "donotreply@shop.example", "no_reply@example.com", "noreply-billing@example.com", "no-reply+tag@example.com",
    ],
)
def test_robot_senders(sender):
    reason = automatic_reason(parse(_mail(sender=sender)), OWN)
    assert reason == f"automatic sender {sender.lower()}"


@pytest.mark.parametrize("sender", ["noreen@example.com", "replyall@example.com", "ann.postmaster@example.com"])
def test_people_with_similar_names_are_answered(sender):
    assert automatic_reason(parse(_mail(sender=sender)), OWN) is None


@pytest.mark.parametrize("sender", ["support@northwind.example", "billing@northwind.example", "SUPPORT@NORTHWIND.EXAMPLE"])
def test_our_own_addresses(sender):
    assert automatic_reason(parse(_mail(sender=sender)), OWN) == f"from our own address {sender.lower()}"


def test_no_usable_sender():
    email = parse(b"Subject: hi\r\nMessage-ID: <x@y>\r\n\r\nhello")
    assert automatic_reason(email, OWN) == "no usable sender address"


def test_own_addresses_default_to_none():
    assert automatic_reason(parse(_mail())) is None
