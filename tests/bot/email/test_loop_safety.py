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


# -- issue 13: automatic mail without RFC 3834 headers -------------------------------------------


def _raw(subject: str, body: str, headers: str = "") -> bytes:
    return (f"From: Ann <ann@example.com>\r\nTo: support@northwind.example\r\nMessage-ID: <m@x>\r\n"
            f"Subject: {subject}\r\n{headers}Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n").encode()


@pytest.mark.parametrize("subject", [
    "Automatic reply: Payment reminder", "Out of Office: Your bill", "RE: Autoreply: invoice",
    "=?utf-8?q?Odpowied=C5=BA_automatyczna=3A_Faktura?=", "=?utf-8?q?Nieobecno=C5=9B=C4=87_w_biurze?=",
    "=?utf-8?b?VHLhuqMgbOG7nWkgdOG7sSDEkeG7mW5nOiBIw7NhIMSRxqFu?=",  # Trả lời tự động: Hóa đơn
    "Abwesenheitsnotiz: Rechnung", "=?utf-8?q?R=C3=A9ponse_automatique_=3A_Facture?=", "Automatisch antwoord: factuur",
    "Please confirm your message to ann@example.com", "Your message to ann@example.com awaits your verification",
])
def test_automatic_subjects_in_several_languages(subject):
    assert automatic_reason(parse(_raw(subject, "Thanks.")), OWN).startswith("automatic subject")


@pytest.mark.parametrize("body", [
    "I'm currently on vacation and will reply when I'm back.",
    "To jest automatyczna odpowiedź. Jestem na urlopie do 4 stycznia.",
    "Đây là thư trả lời tự động. Tôi đang đi vắng.",
    "Ich bin bis zum 8. Dezember nicht im Büro.",
])
def test_vacation_bodies_behind_an_ordinary_subject(body):
    assert automatic_reason(parse(_raw("Re: Your bill", body)), OWN) == "reads as an out-of-office reply"


@pytest.mark.parametrize("subject, body", [
    ("Re: Payment reminder", "I'm on holiday until the 20th. Can I pay when I'm back?"),  # a question: a person
    ("Re: Your bill", "Yes please.\n\n> This is an automatic message from Northwind Energy."),  # quotes our footer
    ("Out of money", "Can I pay next week?"),
    ("Pytanie o fakturę", "Wróciłem z urlopu i widzę fakturę. Czy mogę zapłacić w ratach?"),
    ("Undelivered letter", "I never got the paper letter, please email it."),
])
def test_customers_who_mention_absence_are_still_answered(subject, body):
    assert automatic_reason(parse(_raw(subject, body)), OWN) is None


@pytest.mark.parametrize("header", [
    "Sender: owner-energy-users@lists.example.org", "Return-Path: <customers-bounces+x=y@lists.example.com>",
    "X-Mailing-List: <talk@groups.example.net>", "List-Post: <mailto:talk@lists.example.com>",
    "X-BeenThere: talk@groups.example.net", "X-Loop: ann@example.com", "X-Autogenerated: Reply",
    "X-Mailer: vacation", "X-Precedence: bulk",
])
def test_list_and_autoresponder_headers(header):
    assert automatic_reason(parse(_raw("Hello", "Hi all", header + "\r\n")), OWN) is not None


def test_challenge_response_body():
    body = "Your message has been held. To confirm you are a human, click the link below."
    assert automatic_reason(parse(_raw("Re: Payment reminder", body)), OWN) == "reads as a challenge-response request"


def test_any_machine_report_is_automatic():
    raw = _raw("Read: Your bill", "Your message was read.").replace(
        b"Content-Type: text/plain; charset=utf-8", b'Content-Type: multipart/report; report-type=disposition-notification; boundary="x"')
    assert automatic_reason(parse(raw), OWN) == "a machine-written report (multipart/report)"


@pytest.mark.parametrize("sender", ["bakery-owner@example.com", "owner.jones@example.com", "request-desk@example.com"])
def test_people_whose_address_looks_like_a_list_are_answered(sender):
    assert automatic_reason(parse(_mail(sender=sender)), OWN) is None


@pytest.mark.parametrize("header", ["X-Discourse-Auto-Generated: marked", "X-FC-MachineGenerated: true",
                                    "X-AutoResponder-From: a@b", "X-Vacation: on"])
def test_any_header_named_for_a_machine(header):
    assert automatic_reason(parse(_raw("Hello", "Hi", header + "\r\n")), OWN).endswith("header present")


@pytest.mark.parametrize("subject", ["[AUTO GENERATED] Your ticket", "Auto: Your bill", "Risposta Non al computer: fattura"])
def test_more_automatic_subjects(subject):
    assert automatic_reason(parse(_raw(subject, "x")), OWN).startswith("automatic subject")


@pytest.mark.parametrize("subject", ["Autopay question", "Auto insurance", "Automobile bill"])
def test_subjects_that_only_start_like_auto_are_people(subject):
    assert automatic_reason(parse(_raw(subject, "Can you help?")), OWN) is None
