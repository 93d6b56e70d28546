"""How long a dunning run takes over 100,000 open invoices, on SQLite and on PostgreSQL.

    .venv/bin/python bench/dunning_bench.py [--invoices 100000] [--postgres URL] [--skip-postgres]

Each database gets 100,000 open invoices (5 per customer) with due dates spread over
the last 160 days and the next 10, and the reminder history a daily run would have
left up to yesterday. So "today's run" finds the invoices that reach a stage today
and sends them (to a scratch outbox directory, the embedded default), like a real
daily run; the second run finds nothing to send and shows the cost of checking.
PostgreSQL gets a scratch database that is dropped afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.config import load_settings, sync_database_url  # noqa: E402
from bot.db import dispose_engines, migrate
from bot.dunning import engine  # noqa: E402
from bot.dunning.policy import load_policy  # noqa: E402

TODAY = dt.date(2026, 11, 18)
NOON = dt.datetime(2026, 11, 18, 17, tzinfo=dt.timezone.utc)  # noon in New York


def fill(url: str, invoices: int) -> int:
    """Bulk-loads customers, cards, invoices and reminder history; returns letters due today."""
    policy = load_policy()
    rng = random.Random(5)
    customers = invoices // 5
    engine_ = sa.create_engine(sync_database_url(url))
    meta = sa.MetaData()
    meta.reflect(engine_, only=["customers", "cards", "invoices", "reminders"])
    t = meta.tables
    created = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)
    due_today = 0
    with engine_.begin() as c:
        c.execute(t["customers"].insert(), [
            dict(id=i, account_number=f"B{i:09d}", name=f"Bench Customer {i}", email=f"bench{i}@example.org",
                 timezone="America/New_York", reminders_opt_out=False, email_undeliverable=False, created_at=created)
            for i in range(1, customers + 1)])
        c.execute(t["cards"].insert(), [
            dict(id=i, customer_id=i, brand="visa", last4=f"{i % 10000:04d}", exp_month=rng.randint(1, 12),
                 exp_year=rng.choice([2027, 2028, 2029]), is_default=True) for i in range(1, customers + 1)])
        rows, history = [], []
        for i in range(1, invoices + 1):
            days = rng.randint(-10, 160)
            due = TODAY - dt.timedelta(days=days)
            rows.append(dict(id=i, number=f"INV-B{i:09d}", customer_id=(i - 1) // 5 + 1, description="Bench",
                             amount=rng.randrange(4000, 42000), currency="USD", issued_on=due - dt.timedelta(days=30),
                             due_on=due, status="open", late_fee=0))
            # History as yesterday's run left it: the latest stage reached by yesterday.
            stage = next((s for s in reversed(policy.stages) if s.day <= days - 1), None)
            if stage and not (stage.day < 0 <= days - 1):
                history.append(dict(invoice_id=i, stage=stage.name, channel="email",
                                    sent_at=dt.datetime.combine(due + dt.timedelta(days=stage.day), dt.time(15),
                                                                tzinfo=dt.timezone.utc)))
            due_today += any(s.day == days for s in policy.stages)
        for start in range(0, len(rows), 10_000):
            c.execute(t["invoices"].insert(), rows[start:start + 10_000])
        for start in range(0, len(history), 10_000):
            c.execute(t["reminders"].insert(), history[start:start + 10_000])
    if url.startswith("postgresql"):
        with engine_.begin() as c:
            c.execute(sa.text("ANALYZE"))
    engine_.dispose()
    return due_today


async def timed_runs(url: str, outbox: str) -> list:
    settings = load_settings({"BOT_DATABASE_URL": url, "BOT_EMAIL_OUTBOX_DIR": outbox})
    results = []
    for label in ("today's run", "second run"):
        started = time.perf_counter()
        report = await engine.run(NOON, settings=settings, url=url)
        results.append((label, time.perf_counter() - started, len(report.sent), len(report.retries),
                        len(report.problems) + len(report.failed)))
    await dispose_engines()
    return results


def bench(name: str, url: str, invoices: int) -> None:
    migrate.upgrade(url)
    started = time.perf_counter()
    due = fill(url, invoices)
    print(f"{name}: loaded {invoices:,} open invoices in {time.perf_counter() - started:.1f}s "
          f"({due:,} reach a stage today)")
    with tempfile.TemporaryDirectory() as outbox:
        for label, seconds, sent, retries, problems in asyncio.run(timed_runs(url, outbox)):
            print(f"{name}: {label}: {seconds:.2f}s, {sent:,} emails sent, {retries} retries, {problems} problems")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--postgres", default=os.environ.get("BOT_TEST_POSTGRES_URL",
                                                             "postgresql://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as directory:
        bench("SQLite", f"sqlite+aiosqlite:///{directory}/bench.db", args.invoices)

    if args.skip_postgres:
        return 0
    name = f"dunning_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(args.postgres, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        url = args.postgres.rsplit("/", 1)[0] + f"/{name}"
        bench("PostgreSQL", url.replace("postgresql://", "postgresql+asyncpg://", 1), args.invoices)
    finally:
        with admin.connect() as c:
            c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
