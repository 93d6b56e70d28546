"""Turning a notice into words: Jinja templates (plain text and HTML) and the email.

Pure: no I/O besides reading templates. StrictUndefined makes a template that
uses a value we don't provide fail loudly (TemplateProblem) instead of sending a
letter with a blank where the amount should be.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import functools
from dataclasses import dataclass
from decimal import Decimal
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Dict, Optional, Tuple

import jinja2

from bot.accounts.views import amount_due, days_overdue
from bot.dunning.rows import CardRow, OpenInvoice
from bot.email import compose
from bot.nlu.amounts import format_money

# Plain words for the gateway's decline codes, for the update-card email.
DECLINE_WORDS = {
    "card_reported_lost": "the card was reported lost",
    "lost_card": "the card was reported lost",
    "stolen_card": "the card was reported stolen",
    "do_not_honor": "the bank would not approve the payment",
    "expired_card": "the card has expired",
    "account_closed": "the card's account is closed",
    "insufficient_funds": "there were not enough funds",
    "processing_error": "the bank had a processing error",
}


class TemplateProblem(ValueError):
    """A template is missing, broken, or uses a value that the engine does not provide."""


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def long_date(day: dt.date) -> str:
    return f"{day:%B} {day.day}, {day.year}"


@functools.lru_cache(maxsize=8)
def _environments(directory: Path) -> Tuple[jinja2.Environment, jinja2.Environment]:
    loader = jinja2.FileSystemLoader(str(directory))

    def environment(autoescape: bool) -> jinja2.Environment:
        return jinja2.Environment(
            loader=loader, undefined=jinja2.StrictUndefined, keep_trailing_newline=True, autoescape=autoescape
        )

    # Autoescape in HTML: a customer's name or a description can never become markup.
    return environment(False), environment(True)


@functools.lru_cache(maxsize=64)
def _subject_template(directory: Path, subject: str) -> jinja2.Template:
    return _environments(directory)[0].from_string(subject)  # compiled once, not per letter


def render(templates_dir: Path, template: str, subject: str, context: Dict[str, Any]) -> Rendered:
    text_env, html_env = _environments(Path(templates_dir))
    current = "subject"
    try:
        rendered_subject = " ".join(_subject_template(Path(templates_dir), subject).render(context).split())
        current = f"{template}.txt"
        text = text_env.get_template(current).render(context)
        current = f"{template}.html"
        html = html_env.get_template(current).render(context)
    except jinja2.TemplateNotFound as exc:
        raise TemplateProblem(f"template {exc.name} not found in {templates_dir}") from exc
    except jinja2.UndefinedError as exc:
        raise TemplateProblem(
            f"{current} (template {template!r}) uses a value the engine does not provide: {exc.message}"
        ) from exc
    except jinja2.TemplateError as exc:
        raise TemplateProblem(f"{current} (template {template!r}) is broken: {exc}") from exc
    return Rendered(rendered_subject, text, html)


def company_context(settings) -> Dict[str, Any]:
    return {
        "company": {
            "name": settings.company_name,
            "support_email": settings.support_email,
            "support_phone": settings.support_phone,
        },
        "card_update_link": settings.card_update_link,
    }


def invoice_context(
    invoice: OpenInvoice, today: dt.date, settings, added_fee: Optional[Decimal] = None
) -> Dict[str, Any]:
    """The invoice as the letter shows it; ``added_fee`` is the fee this letter adds."""
    fee = invoice.late_fee
    if added_fee is not None and added_fee > fee:
        fee = added_fee
    due = amount_due(invoice.amount, fee, invoice.paid)
    money = functools.partial(format_money, currency=invoice.currency)
    account = invoice.account
    return {
        "customer": {
            "name": account.name,
            "first_name": account.name.split()[0],
            "account_number": account.account_number,
            "email": account.email,
        },
        "invoice": {
            "number": invoice.number,
            "description": invoice.description,
            "issued_date": long_date(invoice.issued_on),
            "due_date": long_date(invoice.due_on),
            "amount": money(invoice.amount),
            "has_fee": fee > 0,
            "late_fee": money(fee),
            "fee_added_now": fee > invoice.late_fee,
            "has_payments": invoice.paid > 0,
            "paid": money(invoice.paid),
            "amount_due": money(due),
            "currency": invoice.currency,
            "days_overdue": days_overdue(invoice.due_on, today),
            "days_until_due": max((invoice.due_on - today).days, 0),
            "payment_link": f"{settings.payment_link_base}{invoice.number}",
        },
    }


def card_context(card: CardRow) -> Dict[str, Any]:
    brand = {"amex": "American Express", "mastercard": "Mastercard", "visa": "Visa"}.get(card.brand, card.brand.title())
    return {
        "card": {"brand": brand, "last4": card.last4, "expiry": f"{dt.date(card.exp_year, card.exp_month, 1):%B %Y}"}
    }


def compose_email(settings, to: str, rendered: Rendered, key: str, thread: Optional[str] = None) -> EmailMessage:
    """The message: Message-ID from the claim key (stable across runs), RFC 3834 auto-generated.

    Raises compose.HeaderInjection for an address that is empty or not an address.
    """
    domain = compose.domain_of(settings.sender_address)
    return compose.message(
        sender=email.utils.formataddr((f"{settings.company_name} Billing", settings.sender_address)),
        to=to or "",
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        message_id=compose.message_id(key.replace(":", "."), domain),
        references=[thread] if thread else (),
        auto_submitted="auto-generated",
        reply_to=settings.support_email,
    )
