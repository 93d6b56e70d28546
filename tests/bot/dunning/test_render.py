"""Letters say who is writing, what is owed and how to pay or reach a person, in both parts."""

import datetime as dt
import shutil
from decimal import Decimal

import pytest

from bot.config import load_settings
from bot.dunning import notices, render
from bot.dunning.policy import DEFAULT_TEMPLATES, load_policy, parse_policy
from bot.dunning.rows import Account, CardRow, OpenInvoice
from bot.email import threads
from tests.conftest import TODAY

SETTINGS = load_settings({})
POLICY = load_policy()
NOW = dt.datetime(2026, 11, 18, 17, tzinfo=dt.timezone.utc)
THREATS = ("legal", "court", "lawyer", "sue ", "credit score", "bailiff", "agency", "or else")


def an_invoice(days_overdue, name="Robin Test", late_fee="0.00", paid="0.00", email="robin@example.org"):
    account = Account(7, "AC-100099", name, email, "America/New_York", False, False)
    due = TODAY - dt.timedelta(days=days_overdue)
    return OpenInvoice(3, "INV-20999", "Monthly energy plan", Decimal("120.50"), Decimal(late_fee), Decimal(paid),
                       "USD", due - dt.timedelta(days=30), due, account)


def letter(stage_name, days, **kwargs):
    ctx = notices.Context(POLICY, SETTINGS, NOW, TODAY)
    return notices.reminder(ctx, an_invoice(days, **kwargs), POLICY.stage(stage_name))


@pytest.mark.parametrize("stage", [s.name for s in POLICY.stages])
def test_every_stage_states_what_the_service_principles_ask(stage):
    days = POLICY.stage(stage).day
    invoice = an_invoice(days)
    message = letter(stage, days).message
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    for part in (text, html):
        assert "the billing team at Northwind Energy" in part  # who is writing
        assert "INV-20999" in part and render.long_date(invoice.issued_on) in part  # invoice number and date
        assert render.long_date(invoice.due_on) in part
        assert "$120.50" in part  # the amount
        assert "https://pay.northwind.example/invoice/INV-20999" in part  # how to pay
        assert "support@northwind.example" in part and "+1 800 555 0199" in part  # how to reach a person
        assert not any(word in part.lower() for word in THREATS)
    if days > 0:
        assert f"{days} days overdue" in text or f"({days} days ago)" in text
    else:
        assert "in 3 days" in text
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Message-ID"] == f"<reminder.INV-20999.{stage}@northwind.example>"
    assert message["References"] == "<dunning.INV-20999@northwind.example>"
    assert threads.invoice_number_in(message["Message-ID"]) == "INV-20999"


def test_the_final_notice_adds_the_policy_fee_and_says_so():
    text = letter("final", 60).message.get_body(("plain",)).get_content()
    assert "a late fee of $25.00 has been added" in text
    assert "Late fee:     $25.00" in text and "Amount due:   $145.50" in text
    again = letter("final", 60, late_fee="25.00").message.get_body(("plain",)).get_content()
    assert "has been added" not in again and "Amount due:   $145.50" in again  # never added twice


def test_partial_payments_are_shown_and_subtracted():
    text = letter("firm", 30, paid="20.50").message.get_body(("plain",)).get_content()
    assert "Paid so far:  $20.50" in text and "Amount due:   $100.00" in text


def test_html_escapes_what_customers_wrote():
    html = letter("friendly", 3, name="<script>alert(1)</script> Lee").message.get_body(("html",)).get_content()
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_a_template_using_a_value_the_engine_lacks_is_a_clear_error(tmp_path):
    templates = tmp_path / "templates"
    shutil.copytree(DEFAULT_TEMPLATES, templates)
    (templates / "friendly.txt").write_text("Hello {{ customer.nickname }}")
    policy = parse_policy({"templates_dir": str(templates), "late_fee": "25.00",
                           "stages": [{"name": "friendly", "day": 3, "template": "friendly", "subject": "Hi"}]})
    ctx = notices.Context(policy, SETTINGS, NOW, TODAY)
    with pytest.raises(render.TemplateProblem, match=r"friendly.txt .*'customer.nickname'|friendly.txt .*nickname"):
        notices.reminder(ctx, an_invoice(3), policy.stage("friendly"))


def test_the_card_letters_name_the_card():
    ctx = notices.Context(POLICY, SETTINGS, NOW, TODAY)
    card = CardRow(4, 7, "mastercard", "0119", 12, 2026)
    account = an_invoice(5).account
    expiry = notices.card_expiry(ctx, card, account).message
    assert expiry["Subject"] == "Your card ending in 0119 expires soon"
    assert "expires\nat the end of December 2026" in expiry.get_body(("plain",)).get_content()
    assert expiry["Message-ID"] == "<card-expiry.4.2026-12@northwind.example>"
