"""The report on a real database (SQLite, and PostgreSQL) holding the fixed history of
history_fixture.py: the SQL loads the right facts and the figures are the hand-computed ones."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot.analytics import report
from bot.db import session_scope
from tests.bot.analytics.history_fixture import EXPECTED, EXPECTED_WEB, FIRST_DAY, LAST_DAY, add_history, remove_history

NEW_YORK = ZoneInfo("America/New_York")
WINDOWS = report.Windows(reopen_days=7, recovery_days=14, abandon_seconds=600.0)
LATER = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)
STAGES = ("upcoming", "friendly", "firm", "final", "collections")


@pytest.fixture
async def history(any_db):
    async with session_scope() as session:
        await remove_history(session)
        await add_history(session)
    yield any_db
    async with session_scope() as session:
        await remove_history(session)


def period(channel=None, first=FIRST_DAY, last=LAST_DAY):
    return report.Period(first, last, channel, NEW_YORK)


async def test_summary_matches_the_hand_computed_figures(history):
    async with session_scope() as session:
        summary = await report.summary(session, period(), WINDOWS, LATER, STAGES)
    assert summary["period"]["from"] == "2024-02-05" and summary["period"]["to"] == "2024-02-11"
    for key, value in EXPECTED.items():
        assert summary[key] == value, key
    # Stages come in the policy's order, for the charts.
    assert list(summary["reminders_by_stage"]) == ["friendly", "firm", "final"]


async def test_one_channel(history):
    async with session_scope() as session:
        summary = await report.summary(session, period("web"), WINDOWS, LATER, STAGES)
    assert summary["conversations"] == EXPECTED_WEB["conversations"]
    assert summary["containment_rate"] == EXPECTED_WEB["containment_rate"]
    assert summary["handoffs_by_reason"] == EXPECTED_WEB["handoffs_by_reason"]
    assert summary["csat"]["score"] == EXPECTED_WEB["csat_score"]


async def test_daily_series_uses_local_days(history):
    async with session_scope() as session:
        result = await report.daily(session, period(), WINDOWS, LATER, STAGES)
    days = {row["date"]: row for row in result["days"]}
    assert list(days) == [f"2024-02-{d:02d}" for d in range(5, 12)]
    assert days["2024-02-05"]["conversations"] == 2 and days["2024-02-05"]["containment_rate"] == 0.5
    assert days["2024-02-07"]["handoffs"] == 1 and days["2024-02-07"]["queue_wait_p50_seconds"] == 120.0
    assert days["2024-02-07"]["csat_score"] == 1.0 and days["2024-02-06"]["csat_score"] == 0.0
    assert days["2024-02-08"]["recovered_amount"] == "100.00" and days["2024-02-10"]["recovered_amount"] == "40.00"
    assert days["2024-02-11"]["conversations"] == 0 and days["2024-02-11"]["containment_rate"] is None
    assert sum(row["conversations"] for row in result["days"]) == EXPECTED["conversations"]
    assert all(set(row) == set(report.DAILY_COLUMNS) for row in result["days"])


async def test_an_empty_period_has_no_figures_only_zero_counts(history):
    async with session_scope() as session:
        summary = await report.summary(session, period(first=dt.date(2023, 1, 2), last=dt.date(2023, 1, 8)),
                                       WINDOWS, LATER, STAGES)
    assert summary["conversations"] == 0 and summary["containment_rate"] is None
    assert summary["csat"]["score"] is None and summary["handoffs_by_reason"] == {}
    assert summary["recovered_total"] == "0.00"


async def test_abandoned_means_longer_than_the_timeout(history):
    # E ended untaken after exactly 1200 s: abandoned at the 600 s timeout (EXPECTED), not at 1200 s.
    async with session_scope() as session:
        strict = await report.summary(session, period(), report.Windows(7, 14, 1200.0), LATER, STAGES)
    assert strict["abandoned"]["count"] == 0
