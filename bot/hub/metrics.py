"""Operations metrics for Prometheus: ``GET /metrics`` on the hub.

Counters are moved by one-line calls where things happen (routing, the error
middleware); the queue length and the outbox backlog are read from the database
when Prometheus scrapes. Who may scrape: a client on the loopback address (not
through a proxy), or anyone with ``Authorization: Bearer <BOT_HUB_METRICS_TOKEN>``.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from sqlalchemy import func, select

from bot.conversations.models import CHANNELS, Conversation
from bot.db import session_scope
from bot.email.models import OutboundEmail
from bot.handoff_reasons import REASONS

logger = logging.getLogger(__name__)

# The hub's own registry: exactly what is listed here, whatever else is imported.
REGISTRY = CollectorRegistry()
MESSAGES = Counter(
    "bot_hub_messages",
    "Messages stored by the hub: in from customers, out to them.",
    ["direction", "channel"],
    registry=REGISTRY,
)
RASA_SECONDS = Histogram(
    "bot_hub_rasa_seconds",
    "Time Rasa took to answer one customer message.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30),
    registry=REGISTRY,
)
HANDOFFS = Counter("bot_hub_handoffs", "Conversations handed to people, by reason.", ["reason"], registry=REGISTRY)
ERRORS = Counter("bot_hub_errors", "Failures: routing, rasa_unavailable, database.", ["kind"], registry=REGISTRY)
QUEUE_LENGTH = Gauge("bot_hub_queue_length", "Conversations waiting for an agent (pending).", registry=REGISTRY)
OUTBOX_BACKLOG = Gauge("bot_hub_outbox_backlog", "Outbound emails queued and not yet sent.", registry=REGISTRY)


def message(direction: str, channel: str) -> None:
    MESSAGES.labels(direction, channel if channel in CHANNELS else "other").inc()


def handoff(reason: str) -> None:
    # Reasons come from the bot's payload: unknown ones are folded so the label set stays small.
    HANDOFFS.labels(reason if reason in REASONS else "other").inc()


def error(kind: str) -> None:
    ERRORS.labels(kind).inc()


def may_scrape(request: web.Request, token: str) -> bool:
    """Loopback without a proxy in between, or the bearer token."""
    offered = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(offered.encode(), f"Bearer {token}".encode()):
        return True
    if "X-Forwarded-For" in request.headers or "Forwarded" in request.headers:
        return False  # a proxy on loopback speaks for someone else
    try:
        return ipaddress.ip_address(request.remote or "").is_loopback
    except ValueError:
        return False


async def refresh_gauges(db_url: str) -> None:
    async with session_scope(db_url) as session:
        QUEUE_LENGTH.set(
            (
                await session.execute(select(func.count(Conversation.id)).where(Conversation.status == "pending"))
            ).scalar_one()
        )
        OUTBOX_BACKLOG.set(
            (
                await session.execute(select(func.count(OutboundEmail.id)).where(OutboundEmail.status == "queued"))
            ).scalar_one()
        )


def handler(db_url: str, token: str):
    async def metrics(request: web.Request) -> web.Response:
        if not may_scrape(request, token):
            return web.Response(
                status=401,
                text="metrics: loopback only, or Authorization: Bearer <BOT_HUB_METRICS_TOKEN>\n",
                headers={"WWW-Authenticate": "Bearer"},
            )
        try:
            await refresh_gauges(db_url)
        except Exception as exc:  # the counters are still worth serving
            logger.warning("metrics: cannot read the queue and outbox: %r", exc)
            error("database")
        return web.Response(body=generate_latest(REGISTRY), headers={"Content-Type": CONTENT_TYPE_LATEST})

    return metrics
