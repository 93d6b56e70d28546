"""One dunning run: recover, settle promises, retry cards, then send the letters that are due.

Time is an argument (``now``), never read from the clock here, so a test or a
`--today` run decides exactly which day it is. "Today" is ``now``'s date in the
company's time zone; quiet hours use each customer's own zone.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import List, Optional

from bot.config import Settings, get_settings
from bot.db import session_scope
from bot.dunning import claims, data, notices, promises, records, retries, schedule, sending
from bot.dunning.data import Scope
from bot.dunning.gateway import PaymentGateway, SandboxGateway
from bot.dunning.policy import Policy, policy_for


@dataclass
class RunReport:
    today: dt.date
    dry_run: bool
    sent: List[str] = field(default_factory=list)  # or, in a dry run, what would be sent
    held: Counter = field(default_factory=Counter)
    problems: List[str] = field(default_factory=list)  # bad data or templates: nothing sent
    failed: List[str] = field(default_factory=list)  # the SMTP server or gateway refused
    recovered: List[str] = field(default_factory=list)
    retries: List[str] = field(default_factory=list)
    promises_broken: List[str] = field(default_factory=list)
    promises_kept: List[str] = field(default_factory=list)
    taken_by_another_run: int = 0
    stopped: Optional[str] = None

    @property
    def ok(self) -> bool:
        return not (self.problems or self.failed or self.stopped)

    def lines(self) -> List[str]:
        verb = "Would send" if self.dry_run else "Sent"
        out = [
            f"Dunning run for {self.today.isoformat()}{' (dry run: nothing sent or changed)' if self.dry_run else ''}"
        ]
        out += [f"  recovered (a previous run died after acting): {r}" for r in self.recovered]
        out += [f"  promise broken, agent told: {p}" for p in self.promises_broken]
        out += [f"  promise kept: {p}" for p in self.promises_kept]
        out += [f"  {'would try' if self.dry_run else 'card'} {r}" for r in self.retries]
        out += [f"  {verb.lower()}: {s}" for s in sorted(self.sent)]
        out += [f"  held ({reason}): {count}" for reason, count in sorted(self.held.items())]
        out += [f"  PROBLEM (not sent): {p}" for p in self.problems]
        out += [f"  FAILED (not sent, will retry): {f}" for f in self.failed]
        if self.taken_by_another_run:
            out.append(f"  already claimed by another run: {self.taken_by_another_run}")
        if self.stopped:
            out.append(f"  {self.stopped}")
        retries = "retry" if len(self.retries) == 1 else "retries"
        out.append(
            f"{verb} {len(self.sent)} email(s), {len(self.retries)} card {retries}, "
            f"{len(self.problems) + len(self.failed)} problem(s)."
        )
        return out


async def recover(
    url: str,
    settings: Settings,
    run_id: str,
    now: dt.datetime,
    today: dt.date,
    gateway: PaymentGateway,
    customers: Scope = None,
) -> List[str]:
    """Finishes the claims of runs that died between acting and recording (claims.py, step 4)."""
    lease = dt.timedelta(seconds=settings.dunning.claim_lease_seconds)
    async with session_scope(url) as session:
        stale = await claims.stale(session, now, lease, customers)
    done = []
    for row in stale:
        claim = claims.from_row(row)
        if claim.kind == "retry":
            async with session_scope(url) as session:
                if not await claims.take_over(session, row.id, row.run_id, run_id):
                    continue
                card = (await data.cards_by_id(session, [claim.detail["card_id"]])).get(claim.detail["card_id"])
            if card is None:  # the card was removed since: nothing to ask about, close the claim
                async with session_scope(url) as session:
                    await claims.finish(session, run_id, [claim.key], now, "unconfirmed")
                done.append(f"{claim.key}: card gone, closed as unconfirmed")
                continue
            outcome = await retries.charge(url, gateway, run_id, claim, card, now, today)
            done.append(
                f"{claim.key}: asked the gateway again, {'paid' if outcome.succeeded else outcome.decline_code}"
            )
            continue
        async with session_scope(url) as session:
            if await claims.take_over(session, row.id, row.run_id, run_id):
                await records.record_sent(session, run_id, [claim], schedule.aware(row.claimed_at), "unconfirmed")
                done.append(f"{claim.key}: recorded as sent (unconfirmed), not sent again")
    return done


async def plan_letters(
    url: str, ctx: notices.Context, hard_declines, ignore_promises=frozenset(), customers: Scope = None
) -> notices.Plan:
    plan = notices.Plan()
    due_by = ctx.today - dt.timedelta(days=ctx.policy.earliest_day)
    async with session_scope(url) as session:
        invoices = await data.open_invoices(session, due_by, customers=customers)
        sent = await data.sent_stages(session, due_by, customers)
        by_customer = schedule.promises_by_customer(
            [p for p in await data.active_promises(session, customers) if p.id not in ignore_promises]
        )
        held = await data.held_customers(session)
        cards = await data.expiring_cards(session, ctx.today, ctx.policy.card_expiry_days, customers)
        noticed = await claims.existing(
            session, [f"card-expiry:{c.id}:{c.exp_year}-{c.exp_month:02d}" for c, _ in cards]
        )
    notices.plan_reminders(plan, ctx, invoices, sent, by_customer, held)
    notices.plan_update_card(plan, ctx, [h for h in hard_declines if h[0].account.id not in held])
    notices.plan_card_expiry(
        plan, ctx, [(c, a) for c, a in cards if f"card-expiry:{c.id}:{c.exp_year}-{c.exp_month:02d}" not in noticed]
    )
    return plan


async def run(
    now: dt.datetime,
    *,
    settings: Optional[Settings] = None,
    policy: Optional[Policy] = None,
    url: Optional[str] = None,
    dry_run: bool = False,
    gateway: Optional[PaymentGateway] = None,
    deliver=None,
    customers: Scope = None,
) -> RunReport:
    """One run at ``now``; ``customers`` limits it to those customer ids (None: everyone)."""
    settings = settings or get_settings()
    policy = policy or policy_for(settings)
    url = url or settings.database_url
    gateway = gateway or SandboxGateway()
    now = schedule.aware(now).astimezone(dt.timezone.utc)
    today = now.astimezone(settings.tz).date()
    run_id = uuid.uuid4().hex
    report = RunReport(today=today, dry_run=dry_run)

    if not dry_run:
        report.recovered = await recover(url, settings, run_id, now, today, gateway, customers)
    settled = await promises.settle(url, now, today, dry_run, customers)
    report.promises_broken, report.promises_kept = settled.broken, settled.kept
    # Card retries before letters: an invoice paid by a retry gets no reminder today.
    tried = await retries.run_retries(url, policy, gateway, run_id, now, today, dry_run, customers)
    report.retries = tried.planned + tried.charged
    report.failed += tried.failed

    ctx = notices.Context(policy=policy, settings=settings, now=now, today=today)
    plan = await plan_letters(url, ctx, tried.hard_declines, settled.broken_ids, customers)
    report.held, report.problems = plan.held, plan.problems
    if dry_run:
        report.sent = [f"{o.label} to {o.to}" for o in plan.outgoing]
        return report
    result = await sending.send_letters(url, settings, run_id, plan.outgoing, now, deliver)
    report.sent = [f"{o.label} to {o.to}" for o in result.sent]
    report.failed += result.failed
    report.taken_by_another_run = result.taken_by_another_run
    report.stopped = result.stopped
    return report
