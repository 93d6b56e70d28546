"""Smart retries: soft-declined card payments are tried again on the policy's schedule.

Each retry is claimed like a letter ("retry:INV-20015:2"), so two runs never charge
the same card twice; the claim key is also the gateway's idempotency key, so a run
that died after charging asks the gateway again and gets the same answer back.
A successful retry records the payment and marks the invoice paid, which stops its
reminders. Hard declines are never retried: they get the update-card email.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import List, Tuple

from sqlalchemy import update

from bot.accounts.models import Invoice, Payment, PaymentAttempt
from bot.db import session_scope
from bot.dunning import claims, data, schedule
from bot.dunning.claims import Claim
from bot.dunning.gateway import ChargeResult, PaymentGateway
from bot.dunning.policy import Policy


@dataclass
class RetryResult:
    planned: List[str] = field(default_factory=list)
    charged: List[str] = field(default_factory=list)
    failed: List[str] = field(default_factory=list)
    # (invoice, hard-declined attempt, card) still owed an update-card email
    hard_declines: List[Tuple[data.OpenInvoice, data.AttemptRow, data.CardRow]] = field(default_factory=list)


async def _record(url: str, run_id: str, claim: Claim, outcome: ChargeResult, now: dt.datetime) -> None:
    amount = Decimal(claim.detail["amount"])
    async with session_scope(url) as session:
        session.add(
            PaymentAttempt(
                invoice_id=claim.invoice_id,
                card_id=claim.detail["card_id"],
                attempted_at=now,
                amount=amount,
                outcome="succeeded" if outcome.succeeded else "declined",
                decline_code=outcome.decline_code,
                decline_type=outcome.decline_type,
            )
        )
        if outcome.succeeded:
            session.add(
                Payment(
                    invoice_id=claim.invoice_id,
                    amount=amount,
                    currency=claim.detail["currency"],
                    paid_at=now,
                    method="card",
                )
            )
            await session.execute(
                update(Invoice)
                .where(Invoice.id == claim.invoice_id, Invoice.status == "open")
                .values(status="paid", paid_on=now.date())
                .execution_options(synchronize_session=False)
            )
        await claims.finish(session, run_id, [claim.key], now)


async def charge(
    url: str, gateway: PaymentGateway, run_id: str, claim: Claim, card: data.CardRow, now: dt.datetime, today: dt.date
) -> ChargeResult:
    """Charges a claimed retry and records the outcome; releases the claim if the gateway fails."""
    try:
        outcome = await gateway.charge(
            card, Decimal(claim.detail["amount"]), claim.detail["currency"], idempotency_key=claim.key, today=today
        )
    except Exception:
        async with session_scope(url) as session:
            await claims.release(session, run_id, [claim.key])
        raise
    await _record(url, run_id, claim, outcome, now)
    return outcome


async def run_retries(
    url: str,
    policy: Policy,
    gateway: PaymentGateway,
    run_id: str,
    now: dt.datetime,
    today: dt.date,
    dry_run: bool,
    customers: data.Scope = None,
) -> RetryResult:
    result = RetryResult()
    async with session_scope(url) as session:
        attempts = await data.attempts_on_open_invoices(session, customers)
        due = {i: schedule.retry_number_due(policy, rows, now) for i, rows in attempts.items()}
        hard = {i: schedule.hard_decline(rows) for i, rows in attempts.items()}
        wanted = [i for i in attempts if due[i] or hard[i]]
        invoices = {i.id: i for i in await data.open_invoices(session, today, ids=wanted)} if wanted else {}
        cards = await data.default_cards(session, [i.account.id for i in invoices.values()])
        declined_cards = await data.cards_by_id(session, [a.card_id for a in hard.values() if a and a.card_id])
        promises = schedule.promises_by_customer(await data.active_promises(session, customers))
        held = await data.held_customers(session)
        done = await claims.existing(
            session, [f"update-card:{invoices[i].number}:{a.id}" for i, a in hard.items() if a and i in invoices]
        )
    for invoice_id, attempt in hard.items():
        invoice = invoices.get(invoice_id)
        card = declined_cards.get(attempt.card_id) if attempt and attempt.card_id is not None else None
        card = card or (cards.get(invoice.account.id) if invoice else None)
        if attempt and invoice and card and f"update-card:{invoice.number}:{attempt.id}" not in done:
            result.hard_declines.append((invoice, attempt, card))

    for invoice_id, number in due.items():
        invoice = invoices.get(invoice_id)
        if not number or invoice is None or invoice.amount_due <= 0:
            continue
        card = cards.get(invoice.account.id)
        reason = schedule.hold_reason(invoice, today, promises.get(invoice.account.id, ()), held)
        # Opting out of emails or a bounced address is no reason to stop collecting a payment.
        if card is None or (reason and not reason.startswith(("opted out", "email address"))):
            continue
        label = f"retry {number} of {invoice.number} on card {card.last4} ({invoice.amount_due} {invoice.currency})"
        if dry_run:
            result.planned.append(label)
            continue
        claim = Claim(
            f"retry:{invoice.number}:{number}",
            "retry",
            invoice.account.id,
            invoice.id,
            None,
            None,
            {"amount": str(invoice.amount_due), "currency": invoice.currency, "card_id": card.id},
        )
        async with session_scope(url) as session:
            if claim.key not in await claims.claim(session, run_id, [claim], now):
                continue  # another run has it
        try:
            outcome = await charge(url, gateway, run_id, claim, card, now, today)
        except Exception as exc:  # the gateway's own failure: the claim was released, try next run
            result.failed.append(f"{label}: {exc!r}")
            continue
        result.charged.append(f"{label}: {'paid' if outcome.succeeded else outcome.decline_code}")
    return result
