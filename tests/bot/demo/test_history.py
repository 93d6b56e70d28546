"""The seed's demo history: four weeks of realistic, reproducible support and collections
history that the Reports page can show, added once and never to the named scenario customers."""

from __future__ import annotations

import datetime as dt
import shutil
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from bot import cli
from bot.accounts.models import Invoice, PaymentAttempt, PromiseToPay
from bot.analytics import report
from bot.conversations.models import Conversation, CsatRating, Handoff, Message
from bot.db import dispose_engines, session_scope
from bot.demo import agents as hub_seed
from bot.demo import history as demo_history
from bot.demo.scenarios import SCENARIOS
from bot.dunning.models import Reminder
from tests.conftest import TODAY

NEW_YORK = ZoneInfo("America/New_York")


async def _history(url: str):
    async with session_scope(url) as session:
        await hub_seed.seed_hub(session, "pw", dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc))
        created = await demo_history.add_demo_history(session, TODAY, NEW_YORK, scenario_customers=len(SCENARIOS))
    async with session_scope(url) as session:
        rows = (await session.execute(select(Conversation.channel, Conversation.created_at, Conversation.status)
                                      .order_by(Conversation.id))).all()
    return created, rows


async def test_four_weeks_of_history_the_same_every_time(seeded_sqlite_template, tmp_path):
    urls = []
    for name in ("one.db", "two.db"):
        shutil.copy(seeded_sqlite_template, tmp_path / name)
        urls.append(f"sqlite+aiosqlite:///{tmp_path / name}")
    first, second = await _history(urls[0]), await _history(urls[1])
    await dispose_engines()
    assert first == second  # seeded random: the same rows on every run
    created, rows = first
    assert 400 <= created <= 800 and len(rows) == created
    days = {r.created_at.date() for r in rows}
    assert min(days) >= TODAY - dt.timedelta(days=29) and max(days) <= TODAY
    assert {r.channel for r in rows} == {"web", "email"} and {r.status for r in rows} >= {"bot", "resolved"}


async def test_the_report_has_something_to_show(sqlite_db):
    await _history(sqlite_db)
    async with session_scope() as session:
        handoffs = (await session.execute(select(func.count(Handoff.id)))).scalar_one()
        reasons = (await session.execute(select(func.count(func.distinct(Handoff.reason))))).scalar_one()
        ratings = (await session.execute(select(func.count(CsatRating.id)))).scalar_one()
        messages = (await session.execute(select(func.count(Message.id)))).scalar_one()
        period = report.Period(TODAY - dt.timedelta(days=27), TODAY, None, NEW_YORK)
        summary = await report.summary(session, period, report.Windows(7, 14, 600.0),
                                       dt.datetime(2026, 11, 18, 23, tzinfo=dt.timezone.utc))
    assert handoffs > 50 and reasons >= 6 and ratings > 20 and messages > 2000
    assert 0.5 < summary["containment_rate"] < 0.95
    assert summary["queue_wait_seconds"]["p50"] > 0 and summary["abandoned"]["count"] > 0
    assert summary["csat"]["distribution"]["5"] > 0 and summary["csat"]["distribution"]["1"] > 0
    assert {"friendly", "firm"} <= set(summary["reminders_by_stage"])
    assert {"friendly", "firm"} <= set(summary["recovered_by_stage"])
    assert summary["promises"]["kept"] > 0 and summary["promises"]["broken"] > 0
    assert summary["card_retries"]["recovered"] > 0


async def test_history_leaves_the_dunning_engine_and_the_scenarios_alone(sqlite_db):
    await _history(sqlite_db)
    async with session_scope() as session:
        statuses = set((await session.execute(select(Invoice.status).where(
            Invoice.number.like("INV-H%")))).scalars().all())
        scenario_owned = (await session.execute(select(func.count(Invoice.id)).where(
            Invoice.number.like("INV-H%"), Invoice.customer_id <= len(SCENARIOS)))).scalar_one()
        active = (await session.execute(select(func.count(PromiseToPay.id)).join(Invoice).where(
            Invoice.number.like("INV-H%"), PromiseToPay.status == "active"))).scalar_one()
    assert statuses == {"paid", "written_off"} and scenario_owned == 0 and active == 0


async def test_bot_db_seed_adds_it_once(sqlite_db, capsys):
    assert await cli._seed(reset=False, if_empty=True) == 0
    assert "demo history" in capsys.readouterr().out
    async with session_scope() as session:
        counts = [(await session.execute(select(func.count(model.id)))).scalar_one()
                  for model in (Conversation, Reminder, PaymentAttempt)]
    assert counts[0] > 400
    assert await cli._seed(reset=False, if_empty=True) == 0  # idempotent: nothing added twice
    assert "demo history" not in capsys.readouterr().out
    async with session_scope() as session:
        again = [(await session.execute(select(func.count(model.id)))).scalar_one()
                 for model in (Conversation, Reminder, PaymentAttempt)]
    assert again == counts
    # --reset replaces the history rather than leaving orphans behind.
    assert await cli._seed(reset=True, if_empty=False) == 0
    async with session_scope() as session:
        after_reset = (await session.execute(select(func.count(Conversation.id)))).scalar_one()
    assert after_reset == counts[0]
