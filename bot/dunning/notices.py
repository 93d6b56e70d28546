"""Planning a run's letters: which reminder, card-expiry and update-card emails are due,
each rendered and composed before anything is claimed, so a broken template or a
missing address is reported and never leaves a claim behind."""

from __future__ import annotations

import datetime as dt
import functools
from collections import Counter
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Callable, Collection, Dict, List, Mapping, Sequence, Set

from bot.config import Settings
from bot.dunning import render, schedule
from bot.dunning.claims import Claim
from bot.dunning.policy import Policy, Stage
from bot.dunning.rows import Account, AttemptRow, CardRow, OpenInvoice, PromiseRow
from bot.email import compose, threads
from bot.email.errors import HeaderInjection


@dataclass(frozen=True)
class Outgoing:
    claim: Claim
    to: str
    message: EmailMessage
    label: str  # "friendly reminder for INV-20015"


@dataclass
class Plan:
    outgoing: List[Outgoing] = field(default_factory=list)
    held: Counter = field(default_factory=Counter)  # reason -> letters not sent for it
    problems: List[str] = field(default_factory=list)


@dataclass(frozen=True)
class Context:
    policy: Policy
    settings: Settings
    now: dt.datetime
    today: dt.date


def _admit(plan: Plan, ctx: Context, account: Account, label: str, build: Callable[[], Outgoing]) -> None:
    if account.opted_out:
        plan.held["opted out of reminders"] += 1
        return
    if account.undeliverable:
        plan.held["email address bounced"] += 1
        return
    if schedule.in_quiet_hours(ctx.policy, ctx.now, account.timezone, ctx.settings.timezone):
        plan.held["quiet hours in the customer's time zone"] += 1
        return
    if not account.email.strip():
        plan.problems.append(f"{label}: customer {account.account_number} has no email address")
        return
    try:
        plan.outgoing.append(build())
    except render.TemplateProblem as exc:
        plan.problems.append(f"{label}: {exc}")
    except HeaderInjection as exc:
        plan.problems.append(f"{label}: bad email address for {account.account_number}: {exc}")


def reminder(ctx: Context, invoice: OpenInvoice, stage: Stage) -> Outgoing:
    fee = ctx.policy.late_fee if stage.adds_fee else None
    context = {
        **render.company_context(ctx.settings),
        **render.invoice_context(invoice, ctx.today, ctx.settings, fee),
        "stage": {"name": stage.name, "day": stage.day},
    }
    key = f"reminder:{invoice.number}:{stage.name}"
    rendered = render.render(ctx.policy.templates_dir, stage.template, stage.subject, context)
    domain = compose.domain_of(ctx.settings.sender_address)
    message = render.compose_email(
        ctx.settings, invoice.account.email, rendered, key, thread=threads.reminder_thread_root(invoice.number, domain)
    )
    adds_fee = fee is not None and fee > invoice.late_fee
    detail = {
        "channel": stage.channel,
        "invoice_number": invoice.number,
        "fee": str(fee) if adds_fee else None,
        "hand_to_person": stage.hand_to_person,
        "days_overdue": invoice.days_overdue(ctx.today),
        "amount_due": context["invoice"]["amount_due"],
        "to": invoice.account.email,
    }
    claim = Claim(key, "reminder", invoice.account.id, invoice.id, stage.name, message["Message-ID"], detail)
    return Outgoing(claim, invoice.account.email, message, f"{stage.name} reminder for {invoice.number}")


def plan_reminders(
    plan: Plan,
    ctx: Context,
    invoices: Sequence[OpenInvoice],
    sent: Mapping[int, Set[str]],
    promises: Dict[int, List[PromiseRow]],
    held: Collection[int],
) -> None:
    for invoice in invoices:
        stage = schedule.stage_due(ctx.policy, invoice.days_overdue(ctx.today), sent.get(invoice.id, ()))
        if stage is None:
            continue
        reason = schedule.hold_reason(invoice, ctx.today, promises.get(invoice.account.id, ()), held)
        if reason is not None:
            plan.held[reason] += 1
            continue
        _admit(
            plan,
            ctx,
            invoice.account,
            f"{stage.name} reminder for {invoice.number}",
            functools.partial(reminder, ctx, invoice, stage),
        )


def card_expiry(ctx: Context, card: CardRow, account: Account) -> Outgoing:
    # The key names the expiry date too: a renewed card (new date) gets its own notice.
    key = f"card-expiry:{card.id}:{card.exp_year}-{card.exp_month:02d}"
    context = {
        **render.company_context(ctx.settings),
        **render.card_context(card),
        "customer": {
            "name": account.name,
            "first_name": account.name.split()[0],
            "account_number": account.account_number,
            "email": account.email,
        },
    }
    rendered = render.render(
        ctx.policy.templates_dir, ctx.policy.card_expiry_template, ctx.policy.card_expiry_subject, context
    )
    message = render.compose_email(ctx.settings, account.email, rendered, key)
    claim = Claim(
        key, "card_expiry", account.id, None, None, message["Message-ID"], {"card_id": card.id, "to": account.email}
    )
    return Outgoing(
        claim, account.email, message, f"card-expiry notice for card {card.last4} of {account.account_number}"
    )


def plan_card_expiry(plan: Plan, ctx: Context, cards: Sequence) -> None:
    for card, account in cards:
        _admit(
            plan,
            ctx,
            account,
            f"card-expiry notice for {account.account_number}",
            functools.partial(card_expiry, ctx, card, account),
        )


def update_card(ctx: Context, invoice: OpenInvoice, attempt: AttemptRow, card: CardRow) -> Outgoing:
    key = f"update-card:{invoice.number}:{attempt.id}"
    context = {
        **render.company_context(ctx.settings),
        **render.invoice_context(invoice, ctx.today, ctx.settings),
        **render.card_context(card),
        "decline": {
            "code": attempt.decline_code or "declined",
            "reason": render.DECLINE_WORDS.get(attempt.decline_code or "", "the bank declined it"),
        },
    }
    rendered = render.render(
        ctx.policy.templates_dir, ctx.policy.update_card_template, ctx.policy.update_card_subject, context
    )
    domain = compose.domain_of(ctx.settings.sender_address)
    message = render.compose_email(
        ctx.settings, invoice.account.email, rendered, key, thread=threads.reminder_thread_root(invoice.number, domain)
    )
    claim = Claim(
        key,
        "update_card",
        invoice.account.id,
        invoice.id,
        None,
        message["Message-ID"],
        {"attempt_id": attempt.id, "to": invoice.account.email},
    )
    return Outgoing(claim, invoice.account.email, message, f"update-card email for {invoice.number}")


def plan_update_card(plan: Plan, ctx: Context, hard: Sequence) -> None:
    for invoice, attempt, card in hard:
        _admit(
            plan,
            ctx,
            invoice.account,
            f"update-card email for {invoice.number}",
            functools.partial(update_card, ctx, invoice, attempt, card),
        )
