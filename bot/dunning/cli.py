"""`bot dunning run | report | preview`: registered on the main `bot` command by register()."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
from pathlib import Path
from typing import Optional


def _moment(day: Optional[dt.date]) -> dt.datetime:
    """The run's "now": noon in the company's time zone on --today (or BOT_TODAY), else the clock.

    The wall clock is read here, at the edge, never inside the engine.
    """
    from bot.config import get_settings

    settings = get_settings()
    day = day or settings.today
    if day is not None:
        return dt.datetime.combine(day, dt.time(12), tzinfo=settings.tz)
    return dt.datetime.now(dt.timezone.utc)


def _policy():
    from bot.config import get_settings
    from bot.dunning.policy import PolicyError, policy_for

    try:
        return policy_for(get_settings())
    except PolicyError as exc:
        print(f"Dunning policy error: {exc}", file=sys.stderr)
        return None


async def _with_engines(coroutine):
    from bot.db import dispose_engines

    try:
        return await coroutine
    finally:
        await dispose_engines()


async def _customer_ids(accounts):
    from bot.accounts import queries
    from bot.db import session_scope

    if not accounts:
        return None
    async with session_scope() as session:
        found = {a: await queries.find_customer(session, a) for a in accounts}
    missing = [a for a, customer in found.items() if customer is None]
    if missing:
        raise SystemExit(f"No such account: {', '.join(missing)}")
    return {customer.id for customer in found.values() if customer is not None}  # none is, after the check


def _run(args: argparse.Namespace) -> int:
    from bot.dunning import engine

    policy = _policy()
    if policy is None:
        return 2

    async def go():
        customers = await _customer_ids(args.account)
        return await engine.run(_moment(args.today), policy=policy, dry_run=args.dry_run, customers=customers)

    report = asyncio.run(_with_engines(go()))
    print("\n".join(report.lines()))
    return 0 if report.ok else 1


def _report(args: argparse.Namespace) -> int:
    from bot.config import get_settings
    from bot.db import session_scope
    from bot.dunning import aging, engine

    policy = _policy()
    if policy is None:
        return 2
    now = _moment(args.today)

    async def build():
        async with session_scope() as session:
            report = await aging.aging_report(session, now.astimezone(get_settings().tz).date())
        plan = await engine.run(now, policy=policy, dry_run=True)
        return report, plan

    report, plan = asyncio.run(_with_engines(build()))
    if args.csv:
        text = aging.as_csv(report)
        if args.csv == "-":
            sys.stdout.write(text)
            return 0
        Path(args.csv).write_text(text, encoding="utf-8")
        print(f"Wrote the aging report to {args.csv}")
    print(aging.as_table(report))
    print()
    print("\n".join(plan.lines()))
    return 0


def _preview(args: argparse.Namespace) -> int:
    from bot.dunning import preview

    policy = _policy()
    if policy is None:
        return 2
    try:
        text = asyncio.run(
            _with_engines(preview.preview(args.invoice, args.stage, _moment(args.today), policy, html=args.html))
        )
    except preview.PreviewError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    print(text)
    return 0


def register(commands) -> None:
    """Adds `dunning` and its subcommands to the `bot` command's subparsers."""
    dunning = commands.add_parser("dunning", help="payment reminders: run, aging report, preview")
    sub = dunning.add_subparsers(dest="dunning_command", required=True)
    day = dict(type=dt.date.fromisoformat, metavar="YYYY-MM-DD", help="act as if it were this day (noon)")

    run = sub.add_parser("run", help="send the reminders, retries and notices that are due")
    run.add_argument("--dry-run", action="store_true", help="show what would happen; send and change nothing")
    run.add_argument("--today", **day)
    run.add_argument("--account", action="append", metavar="AC-......", help="only this account (repeatable)")
    run.set_defaults(run=_run)

    report = sub.add_parser("report", help="aging report and what a run would send (sends nothing)")
    report.add_argument("--csv", metavar="FILE", help="also write the aging report as CSV ('-' for stdout only)")
    report.add_argument("--today", **day)
    report.set_defaults(run=_report)

    preview = sub.add_parser("preview", help="render a stage's email for an invoice")
    preview.add_argument("--invoice", required=True, help="invoice number, e.g. INV-20015")
    preview.add_argument("--stage", required=True, help="a stage of the policy, e.g. friendly")
    preview.add_argument("--html", action="store_true", help="print the HTML part instead of the text")
    preview.add_argument("--today", **day)
    preview.set_defaults(run=_preview)
