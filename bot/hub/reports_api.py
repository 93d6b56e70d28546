"""The console's report API: a period's summary, its daily series, and that series as CSV.

Under ``/api/``, so the console's session check (console_api.auth_middleware)
refuses anyone not signed in. Query: ``from`` and ``to`` (YYYY-MM-DD, both
included; by default the 28 days up to today) and ``channel`` (web or email;
empty for all). Described in ``openapi.yaml``; figures in bot/analytics.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import logging
from typing import Tuple

from aiohttp import web

from bot.analytics import report
from bot.config import Settings, today
from bot.conversations.models import CHANNELS
from bot.db import session_scope
from bot.dunning.policy import PolicyError, policy_for
from bot.hub.console_api import ROUTER
from bot.hub.routing import utcnow

logger = logging.getLogger(__name__)

DEFAULT_DAYS = 28
MAX_DAYS = 366


class BadQuery(ValueError):
    """A query parameter the report cannot use; the message says which and why."""


def _date(request: web.Request, name: str, default: dt.date) -> dt.date:
    raw = request.query.get(name, "").strip()
    if not raw:
        return default
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise BadQuery(f"{name} must be a date written YYYY-MM-DD, not {raw[:40]!r}") from None


def parse_period(request: web.Request, settings: Settings) -> report.Period:
    last = _date(request, "to", today(settings))
    first = _date(request, "from", last - dt.timedelta(days=DEFAULT_DAYS - 1))
    if first > last:
        raise BadQuery("from must be on or before to")
    if (last - first).days + 1 > MAX_DAYS:
        raise BadQuery(f"the period is too long: at most {MAX_DAYS} days")
    channel = request.query.get("channel", "").strip() or None
    if channel is not None and channel not in CHANNELS:
        raise BadQuery(f"channel must be one of {', '.join(CHANNELS)} (or empty for all)")
    return report.Period(first, last, channel, settings.tz)


def windows(settings: Settings) -> report.Windows:
    return report.Windows(settings.report.reopen_days, settings.report.recovery_days, settings.report.abandon_seconds)


def stage_order(settings: Settings) -> Tuple[str, ...]:
    try:
        return policy_for(settings).stage_names
    except PolicyError as exc:  # the figures still make sense without the policy's order
        logger.warning("reports: stages in name order: %s", exc)
        return ()


async def _build(request: web.Request, build):
    router = request.app[ROUTER]
    settings = router.settings
    try:
        period = parse_period(request, settings)
    except BadQuery as exc:
        raise web.HTTPBadRequest(text=json.dumps({"error": str(exc)}), content_type="application/json") from None
    async with session_scope(router.db_url) as session:
        return await build(session, period, windows(settings), utcnow(), stage_order(settings))


async def get_summary(request: web.Request) -> web.Response:
    return web.json_response(await _build(request, report.summary))


async def get_daily(request: web.Request) -> web.Response:
    return web.json_response(await _build(request, report.daily))


async def get_daily_csv(request: web.Request) -> web.Response:
    result = await _build(request, report.daily)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=report.DAILY_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for row in result["days"]:
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    period = result["period"]
    name = f"report-{period['from']}-{period['to']}{'-' + period['channel'] if period['channel'] else ''}.csv"
    return web.Response(
        text=out.getvalue(),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/reports/summary", get_summary)
    app.router.add_get("/api/reports/daily", get_daily)
    app.router.add_get("/api/reports/daily.csv", get_daily_csv)
