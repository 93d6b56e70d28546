"""The console's Reports page in headless Chromium against the real hub (the ``servers``
fixture), on the fixed history of tests/bot/analytics/history_fixture.py (February 2024,
far from anything else the shared servers hold): headline figures as hand-computed,
charts drawn by the vendored Chart.js, the channel filter, and sign-in required."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from tests.bot.analytics.history_fixture import add_history, remove_history
from tests.browser import hub_pages as hub
from tests.browser.hub_pages import LIVE_TIMEOUT_MS

pytestmark = [pytest.mark.e2e, pytest.mark.model]

WEEK = "from=2024-02-05&to=2024-02-11"


@pytest.fixture
def history(servers):
    async def change(*steps) -> None:
        engine = create_async_engine(servers.db_url)  # its own engine, in the servers' event loop
        try:
            async with AsyncSession(engine) as session, session.begin():
                for step in steps:
                    await step(session)
        finally:
            await engine.dispose()

    servers.run(change(remove_history, add_history))
    yield servers
    servers.run(change(remove_history))


def test_reports_page_shows_the_figures_and_charts(history, new_page):
    page = new_page()
    dialogs = hub.record_dialogs(page)
    hub.sign_in(page, history.hub_url, "alex")
    page.click("#reports-link")  # the console links to it; by default the 28 days up to (the tests') today
    expect(page).to_have_url(history.hub_url + "/reports?from=2026-10-22&to=2026-11-18", timeout=LIVE_TIMEOUT_MS)
    page.goto(f"{history.hub_url}/reports?{WEEK}")
    expect(page.locator("body")).to_have_attribute("data-loaded", "2024-02-05..2024-02-11:all", timeout=LIVE_TIMEOUT_MS)
    expect(page.locator("#kpi-containment")).to_have_text("16.7%")
    expect(page.locator("#kpi-csat")).to_have_text("66.7%")
    expect(page.locator("#kpi-queue")).to_have_text("2 min / 10 min")
    expect(page.locator("#kpi-first-response")).to_have_text("3 min")
    expect(page.locator("#kpi-abandoned")).to_have_text("1 (33.3%)")
    expect(page.locator("#kpi-recovered")).to_have_text("$140.00")
    expect(page.locator("#kpi-promises")).to_have_text("50.0%")
    expect(page.locator("#kpi-retries")).to_have_text("1 of 1")
    # The charts exist and hold the day-by-day and by-reason data.
    containment = page.evaluate("() => Chart.getChart('chart-containment').data.datasets[0].data")
    assert containment == [50, 0, 0, 0, 0, None, None]
    assert page.evaluate("() => Chart.getChart('chart-reasons').data.labels") == ["Anger", "Asked for a person", "Dispute"]
    assert page.evaluate("() => Chart.getChart('chart-recovered').data.labels") == ["friendly", "firm", "final"]
    assert page.evaluate("() => Chart.getChart('chart-recovered').data.datasets[0].data") == [40, 100, 0]
    assert page.evaluate("() => Chart.getChart('chart-queue').data.datasets[0].data") == [None, 10, 2, None, None, None, None]
    assert page.evaluate("() => document.getElementById('chart-csat').width") > 0
    assert page.get_attribute("#report-csv", "href") == f"/api/reports/daily.csv?{WEEK}"

    # Email only: conversation D.
    page.select_option("#report-channel", "email")
    page.click("#report-apply")
    expect(page.locator("body")).to_have_attribute("data-loaded", "2024-02-05..2024-02-11:email", timeout=LIVE_TIMEOUT_MS)
    expect(page.locator("#kpi-volume")).to_have_text("1 / 1")
    expect(page.locator("#kpi-csat")).to_have_text("0.0%")
    assert "channel=email" in page.url

    # A period that ends before it starts: the API's message, shown as is.
    page.fill("#report-from", "2024-02-12")
    page.click("#report-apply")
    expect(page.locator("#report-error")).to_have_text("from must be on or before to")
    assert dialogs == []


def test_reports_page_asks_to_sign_in(servers, new_page):
    page = new_page()
    page.goto(f"{servers.hub_url}/reports?{WEEK}")
    expect(page.locator("#report-signin")).to_be_visible(timeout=LIVE_TIMEOUT_MS)
    expect(page.locator("#report-body")).to_be_hidden()
