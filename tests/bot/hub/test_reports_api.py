"""The report API on the running hub: only for signed-in agents, clear 400s for bad
input, and the figures of the fixed history (tests/bot/analytics/history_fixture.py)."""

from __future__ import annotations

import csv
import io

import aiohttp
import pytest

from bot.db import session_scope
from tests.bot.analytics.history_fixture import EXPECTED, EXPECTED_WEB, add_history, remove_history

WEEK = "from=2024-02-05&to=2024-02-11"


@pytest.fixture
async def hub_with_history(running_hub):
    async with session_scope() as session:
        await remove_history(session)
        await add_history(session)
    yield running_hub
    async with session_scope() as session:
        await remove_history(session)


async def test_reports_need_a_signed_in_agent(running_hub):
    async with aiohttp.ClientSession() as http:
        for path in ("/api/reports/summary", "/api/reports/daily", "/api/reports/daily.csv"):
            async with http.get(f"{running_hub.url}{path}?{WEEK}") as response:
                assert response.status == 401, path
                assert await response.json() == {"error": "sign in first"}


@pytest.mark.parametrize("query, message", [
    ("from=2024-02-31", "from must be a date written YYYY-MM-DD, not '2024-02-31'"),
    ("to=yesterday", "to must be a date written YYYY-MM-DD, not 'yesterday'"),
    ("from=2024-02-11&to=2024-02-05", "from must be on or before to"),
    ("from=2020-01-01&to=2024-02-05", "the period is too long: at most 366 days"),
    ("channel=sms", "channel must be one of web, email (or empty for all)"),
])
async def test_bad_input_is_a_clear_400(running_hub, query, message):
    http = await running_hub.login()
    try:
        for path in ("/api/reports/summary", "/api/reports/daily.csv"):
            async with http.get(f"{path}?{query}") as response:
                assert response.status == 400
                assert await response.json() == {"error": message}
    finally:
        await http.close()


async def test_summary_matches_the_fixture(hub_with_history):
    http = await hub_with_history.login()
    try:
        async with http.get(f"/api/reports/summary?{WEEK}") as response:
            assert response.status == 200
            summary = await response.json()
        async with http.get(f"/api/reports/summary?{WEEK}&channel=web") as response:
            web_only = await response.json()
        async with http.get("/api/reports/summary") as response:  # default: the 28 days up to today
            default = await response.json()
    finally:
        await http.close()
    for key, value in EXPECTED.items():
        assert summary[key] == value, key
    assert summary["period"]["channel"] is None and summary["period"]["abandon_seconds"] == 600.0
    assert (web_only["conversations"], web_only["containment_rate"]) == (
        EXPECTED_WEB["conversations"], EXPECTED_WEB["containment_rate"])
    assert (default["period"]["from"], default["period"]["to"]) == ("2026-10-22", "2026-11-18")


async def test_daily_series_and_csv_agree(hub_with_history):
    http = await hub_with_history.login()
    try:
        async with http.get(f"/api/reports/daily?{WEEK}") as response:
            daily = await response.json()
        async with http.get(f"/api/reports/daily.csv?{WEEK}&channel=email") as response:
            assert response.status == 200
            assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
            assert 'filename="report-2024-02-05-2024-02-11-email.csv"' in response.headers["Content-Disposition"]
            email_rows = list(csv.DictReader(io.StringIO(await response.text())))
        async with http.get(f"/api/reports/daily.csv?{WEEK}") as response:
            rows = list(csv.DictReader(io.StringIO(await response.text())))
    finally:
        await http.close()
    assert [d["date"] for d in daily["days"]] == [r["date"] for r in rows] == [f"2024-02-{d:02d}" for d in range(5, 12)]
    feb5 = rows[0]
    assert (feb5["conversations"], feb5["containment_rate"], feb5["csat_score"]) == ("2", "0.5", "")
    assert daily["days"][0]["csat_score"] is None
    # Email alone: only D (Feb 6), handed over for a dispute and rated 2.
    assert [r["conversations"] for r in email_rows] == ["0", "1", "0", "0", "0", "0", "0"]
    assert email_rows[1]["csat_score"] == "0.0" and email_rows[1]["queue_wait_p50_seconds"] == "600.0"
