"""How long the Reports page's queries take on PostgreSQL with 1 million messages.

    .venv/bin/python bench/report_bench.py [--messages 1000000] [--days 180] [--runs 5] [--keep]
                                           [--reuse] [--database bot_analytics_bench]
                                           [--admin-url postgresql://postgres@127.0.0.1:5432/postgres]

Builds a scratch database ``bot_analytics_bench`` (migrated, so it has migration 0007's
indexes and 0009's columns) and fills it with SQL (generate_series, no Python loop):
conversations spread over ``--days`` days, 8 messages each, a handoff for one in five
(reasons, takes, agent replies, some never taken), ratings, customers with three invoices
each, reminders by stage, payments, card retries and promises; then it sets each
conversation's next start and each handoff's first agent reply as the conversation store's
writers would have (their modules' backfill statements) and puts those rows back in the
order they were written (CLUSTER). Then for a 30-day and a 90-day window ending on the last
day it times the report's summary and daily series (bot.analytics.report, as the API runs
them): the first run on a new connection ("cold": PostgreSQL's buffers still hold what the
load wrote, the OS cache too) and the p50 of ``--runs`` more ("warm"), split into loading
the facts (SQL) and computing the figures (Python). Then it runs EXPLAIN ANALYZE on every
query the report sent: the time PostgreSQL spent on each, and the indexes each plan used.
The database is dropped unless --keep.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Dict, List, Tuple
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.analytics import report  # noqa: E402
from bot.config import async_database_url  # noqa: E402
from bot.conversations import handoffs, returns  # noqa: E402
from bot.db import migrate  # noqa: E402

NAME = "bot_analytics_bench"
LAST_DAY = dt.date(2026, 11, 18)
TZ = ZoneInfo("America/New_York")
WINDOWS = report.Windows(reopen_days=7, recovery_days=14, abandon_seconds=600.0)
STAGES = ("upcoming", "friendly", "firm", "final", "collections")
# The report's queries in the order bot.analytics.facts.load sends them.
FACT_QUERIES = ("conversations", "resolved", "handoffs", "ratings", "reminders", "payments", "promises", "attempts")
REASONS = "ARRAY['asked_for_person','anger','hardship','dispute','repeated_fallback','billing_error','cancellation','refund']"

FILL = [
    # customers: one for every 6 conversations
    """INSERT INTO customers (id, account_number, name, email, timezone, reminders_opt_out, email_undeliverable, created_at)
       SELECT i, 'B' || lpad(i::text, 9, '0'), 'Bench ' || i, 'bench' || i || '@example.org', 'America/New_York',
              false, false, TIMESTAMPTZ '2025-01-01' FROM generate_series(1, :customers) i""",
    # conversations: evenly over the days, at a random time; 40% verified; one in five resolved by a person
    """INSERT INTO conversations (id, public_id, channel, session_key, customer_id, status, queue_notice_sent,
                                 outage_notice_sent, rasa_needs_resume, created_at, updated_at, resolved_at)
       SELECT i, md5(i::text), CASE WHEN i % 4 = 0 THEN 'email' ELSE 'web' END, 's' || (i % (:conversations * 9 / 10)),
              CASE WHEN i % 5 IN (1, 2) THEN 1 + (i * 7919) % :customers END,
              CASE WHEN i % 5 = 0 THEN 'resolved' ELSE 'bot' END, false, false, false,
              c, c + interval '4 minutes', CASE WHEN i % 5 = 0 THEN c + interval '20 minutes' END
       FROM (SELECT i, :start + (:seconds * (i - 1)::float8 / :conversations) * interval '1 second'
                       + random() * interval '10 minutes' AS c
             FROM generate_series(1, :conversations) i) g""",
    # 8 messages each; the last two of a handed-over conversation are the agent's
    """INSERT INTO messages (conversation_id, sender, text, delivery, created_at)
       SELECT c.id, CASE WHEN c.id % 5 = 0 AND k >= 6 THEN 'agent' WHEN k % 2 = 0 THEN 'customer' ELSE 'bot' END,
              'bench message', 'sent', c.created_at + k * interval '30 seconds' + (c.id % 5 = 0 AND k >= 6)::int * interval '5 minutes'
       FROM conversations c CROSS JOIN generate_series(0, 7) k""",
    # a handoff for one in five: taken after 1-11 minutes, except one in ten never taken
    """INSERT INTO handoffs (conversation_id, reason, priority, summary, requested_at, taken_at, ended_at, outcome)
       SELECT id, (""" + REASONS + """)[1 + id % 8], 2, '{}', created_at + interval '150 seconds',
              CASE WHEN id % 50 <> 0 THEN created_at + interval '150 seconds' + (60 + (id * 37) % 600) * interval '1 second' END,
              created_at + interval '20 minutes', CASE WHEN id % 50 <> 0 THEN 'resolved' ELSE 'handed_back' END
       FROM conversations WHERE id % 5 = 0""",
    """INSERT INTO csat_ratings (conversation_id, rating, created_at)
       SELECT id, 1 + (id * 13) % 5, resolved_at + interval '1 minute' FROM conversations WHERE id % 10 = 5""",
    # three invoices a customer, due over the period; 70% paid
    """INSERT INTO invoices (id, number, customer_id, description, amount, currency, issued_on, due_on, status, late_fee, paid_on)
       SELECT i, 'BI' || i, 1 + (i - 1) % :customers, 'bench', 4000 + (i * 31) % 38000, 'USD', d - 30, d,
              CASE WHEN i % 10 < 7 THEN 'paid' ELSE 'open' END, 0, CASE WHEN i % 10 < 7 THEN d + (i % 20) END
       FROM (SELECT i, (:first_day)::date + (i * 7) % :days AS d FROM generate_series(1, :customers * 3) i) g""",
    """INSERT INTO reminders (invoice_id, stage, channel, sent_at)
       SELECT i.id, s.stage, 'email', (i.due_on + s.offset_days) + time '15:00'
       FROM invoices i CROSS JOIN (VALUES ('upcoming', -3), ('friendly', 3), ('firm', 14), ('final', 28)) s(stage, offset_days)
       WHERE i.due_on + s.offset_days <= :last_day AND (i.paid_on IS NULL OR i.due_on + s.offset_days <= i.paid_on)""",
    """INSERT INTO payments (invoice_id, amount, currency, paid_at, method)
       SELECT id, amount, 'USD', paid_on + time '18:00', 'card' FROM invoices WHERE paid_on IS NOT NULL""",
    """INSERT INTO payment_attempts (invoice_id, attempted_at, amount, outcome, decline_code, decline_type)
       SELECT id, due_on + time '11:00', amount, 'declined', 'insufficient_funds', 'soft' FROM invoices WHERE id % 4 = 0
       UNION ALL
       SELECT id, due_on + 3 + time '11:00', amount, CASE WHEN id % 8 = 0 THEN 'succeeded' ELSE 'declined' END,
              CASE WHEN id % 8 = 0 THEN NULL ELSE 'insufficient_funds' END, CASE WHEN id % 8 = 0 THEN NULL ELSE 'soft' END
       FROM invoices WHERE id % 4 = 0""",
    """INSERT INTO promises_to_pay (customer_id, invoice_id, kind, amount, currency, promised_date, status, channel, created_at)
       SELECT customer_id, id, 'promise', amount, 'USD', due_on + 10,
              CASE WHEN paid_on IS NOT NULL AND paid_on <= due_on + 10 THEN 'kept' ELSE 'broken' END, 'chat', due_on + time '12:00'
       FROM invoices WHERE id % 10 = 3""",
]


def build(admin_url: str, name: str, messages: int, days: int) -> str:
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    migrate.upgrade(url)
    conversations = messages // 8
    first_day = LAST_DAY - dt.timedelta(days=days - 1)
    params = {"conversations": conversations, "customers": max(conversations // 6, 1), "days": days,
              "seconds": days * 86400 - 3600, "start": report.local_midnight(first_day, TZ),
              "first_day": first_day, "last_day": LAST_DAY}
    engine = sa.create_engine(url)
    started = time.perf_counter()
    with engine.begin() as c:
        c.execute(sa.text("SELECT setseed(0.16)"))
        for statement in FILL:
            c.execute(sa.text(statement), {k: v for k, v in params.items() if f":{k}" in statement})
        # What the conversation store's writers keep on the rows (migration 0009), for rows written in bulk.
        c.execute(returns.BACKFILL)
        c.execute(handoffs.BACKFILL_FIRST_REPLY)
        for table in ("customers", "conversations", "messages", "handoffs", "csat_ratings", "invoices",
                      "reminders", "payments", "payment_attempts", "promises_to_pay"):
            c.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        # The backfills rewrote every conversation and handoff at the end of its table: put the rows back in
        # the order they were written (as before migration 0009), so the figures compare with earlier ones.
        c.execute(sa.text("CLUSTER conversations USING ix_conversations_created_at"))
        c.execute(sa.text("CLUSTER handoffs USING ix_handoffs_requested_at"))
        c.execute(sa.text("VACUUM ANALYZE"))
        counts = {t: c.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()
                  for t in ("messages", "conversations", "handoffs", "csat_ratings", "invoices", "reminders",
                            "payments", "payment_attempts", "promises_to_pay")}
        size = c.execute(sa.text(f"SELECT pg_size_pretty(pg_database_size('{name}'))")).scalar_one()
    engine.dispose()
    print(f"Built {name} in {time.perf_counter() - started:.1f} s ({size}): "
          + ", ".join(f"{n:,} {t}" for t, n in counts.items()))
    return url


async def timed(url: str, window_days: int, runs: int) -> Tuple[Dict[str, List[float]], List[Tuple[str, tuple]]]:
    """Times of each run (ms) per step, and the statements the report sent (for EXPLAIN)."""
    engine = create_async_engine(async_database_url(url))
    sent: List[Tuple[str, tuple]] = []
    event.listen(engine.sync_engine, "before_cursor_execute",
                 lambda conn, cursor, statement, parameters, context, many: sent.append((statement, parameters)))
    period = report.Period(LAST_DAY - dt.timedelta(days=window_days - 1), LAST_DAY, None, TZ)
    as_of = report.local_midnight(LAST_DAY + dt.timedelta(days=1), TZ)
    times: Dict[str, List[float]] = {"summary: load facts": [], "summary: figures": [], "summary total": [],
                                     "daily total": []}
    for _ in range(runs + 1):
        async with AsyncSession(engine) as session:
            t0 = time.perf_counter()
            facts = await report.load_facts(session, period, WINDOWS)
            t1 = time.perf_counter()
            report.summarize(facts, WINDOWS, as_of, STAGES)
            t2 = time.perf_counter()
            await report.daily(session, period, WINDOWS, as_of, STAGES)
            t3 = time.perf_counter()
        times["summary: load facts"].append((t1 - t0) * 1000)
        times["summary: figures"].append((t2 - t1) * 1000)
        times["summary total"].append((t2 - t0) * 1000)
        times["daily total"].append((t3 - t2) * 1000)
    await engine.dispose()
    return times, sent


async def explain(url: str, statements: List[Tuple[str, tuple]]) -> None:
    engine = create_async_engine(async_database_url(url))
    seen = set()
    async with engine.connect() as c:
        await c.exec_driver_sql("SET jit = off")  # as the report does
        for statement, parameters in statements:
            if statement in seen or not statement.lstrip().upper().startswith("SELECT"):
                continue
            seen.add(statement)
            plan = [row[0] for row in (await c.exec_driver_sql("EXPLAIN ANALYZE " + statement, parameters)).all()]
            took = next((line.split(":")[1].strip() for line in plan if line.startswith("Execution Time")), "?")
            uses = sorted({word.strip('"') for line in plan for word in line.split() if word.startswith(("ix_", "pk_", '"ix_'))})
            seq = sorted({line.split("Seq Scan on ")[1].split()[0] for line in plan if "Seq Scan on " in line})
            table = FACT_QUERIES[len(seen) - 1] if len(seen) <= len(FACT_QUERIES) else "?"
            print(f"  {table:<14} {took:>12}  indexes: {', '.join(uses) or '-'}"
                  + (f"; seq scan: {', '.join(seq)}" if seq else ""))
    await engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=180, help="days of history the conversations spread over")
    parser.add_argument("--runs", type=int, default=5, help="warm runs after the first (p50 printed)")
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", action="store_true", help="time the database a --keep run left (and keep it)")
    parser.add_argument("--database", default=NAME, help="the scratch database's name (one of your own on a shared server)")
    args = parser.parse_args()
    if args.reuse:
        url = args.admin_url.rsplit("/", 1)[0] + f"/{args.database}"
    else:
        url = build(args.admin_url, args.database, args.messages, args.days)
    try:
        for window in (30, 90):
            times, sent = asyncio.run(timed(url, window, args.runs))
            load = ", ".join(f"{n:.2f}" for n in os.getloadavg())
            print(f"\n{window}-day window (all channels), ms: cold = first run on a new connection; warm = p50 of {args.runs}"
                  f" (load average {load} at the end)")
            for step, values in times.items():
                print(f"  {step:<22} cold {values[0]:8.1f}   warm p50 {statistics.median(values[1:]):8.1f}")
            print(f"\nEXPLAIN ANALYZE of each query the summary sent ({window}-day window): server time, indexes used")
            asyncio.run(explain(url, sent))
    finally:
        if not (args.keep or args.reuse):
            admin = sa.create_engine(args.admin_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as c:
                c.execute(sa.text(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)'))
            admin.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
