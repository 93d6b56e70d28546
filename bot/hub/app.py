"""Builds the hub: one aiohttp application serving the widget's socket.io
endpoint (``/socket.io``), the console socket and API, the pages, and ``/health``."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any, Dict, Optional

import socketio
import yaml
from aiohttp import web
from sqlalchemy import text

from bot.config import Settings
from bot.conversations.intake import utcnow
from bot.db import dispose_engines, session_scope
from bot.email import email_status
from bot.hub import console_api, reports_api
from bot.hub import metrics as hub_metrics
from bot.hub.agent_desk import AgentDesk
from bot.hub.auth import LoginThrottle
from bot.hub.console_api import DESK, ROUTER, THROTTLE
from bot.hub.console_socket import ConsoleSocket
from bot.hub.delivery import SocketDelivery
from bot.hub.fan_out import RedisFanOut
from bot.hub.outage import OutageRecovery
from bot.hub.queue_watch import QueueWatch
from bot.hub.rasa_client import Rasa
from bot.hub.rasa_pool import RasaPool
from bot.hub.routing import Router
from bot.hub.widget_channel import WidgetChannel

logger = logging.getLogger(__name__)

OPENAPI_DOC = web.AppKey("openapi", dict)
EMAIL = web.AppKey("email", object)

STATIC = Path(__file__).resolve().parent / "static"
OPENAPI = Path(__file__).resolve().parent / "openapi.yaml"

# Scripts only from the hub itself: a message that smuggles markup can never run code.
PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: https:; connect-src 'self' ws: wss:; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'self'"
)


@web.middleware
async def security_headers(request: web.Request, handler) -> web.StreamResponse:
    response = await handler(request)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    return response


def _page(name: str):
    async def handler(request: web.Request) -> web.FileResponse:
        return web.FileResponse(
            STATIC / name,
            headers={"Cache-Control": "no-cache", "Content-Security-Policy": PAGE_POLICY, "X-Frame-Options": "DENY"},
        )

    return handler


async def widget_script(request: web.Request) -> web.FileResponse:
    # Embedded on other sites: any origin may load it.
    return web.FileResponse(
        STATIC / "widget.js",
        headers={
            "Content-Type": "application/javascript",
            "Access-Control-Allow-Origin": "*",
            "Cache-Control": "no-cache",
        },
    )


async def health(request: web.Request) -> web.Response:
    router: Router = request.app[ROUTER]
    body: Dict[str, Any] = {"status": "ok", "database": "ok", "rasa": "up"}
    try:
        async with session_scope(router.db_url) as session:
            await session.execute(text("SELECT 1"))
    except Exception as exc:  # any failure to reach the store is "down"
        logger.warning("health: database unavailable: %r", exc)
        body.update(status="degraded", database="down")
    if not await router.rasa.healthy():
        body["rasa"] = "down"
    return web.json_response(body, status=200 if body["database"] == "ok" else 503)


async def openapi(request: web.Request) -> web.Response:
    return web.json_response(request.app[OPENAPI_DOC])


def build_app(settings: Settings, db_url: Optional[str] = None, rasa: Optional[Rasa] = None) -> web.Application:
    widget: Optional[WidgetChannel] = None
    console: Optional[ConsoleSocket] = None

    async def catch_up() -> None:  # Redis was away: what this hub's sockets missed
        if widget is not None:
            await widget.resend_histories()
        if console is not None:
            await console.resync()

    manager = RedisFanOut(settings.hub.redis_url, catch_up) if settings.hub.redis_url else None
    sio = socketio.AsyncServer(
        async_mode="aiohttp",
        cors_allowed_origins="*",
        client_manager=manager,
        max_http_buffer_size=settings.hub.max_body_bytes,
        logger=False,
        engineio_logger=False,
    )
    rasa = rasa or RasaPool.from_urls(settings.rasa_urls, settings.rasa.timeout_seconds, settings.rasa.token)
    delivery = SocketDelivery(sio)
    router = Router(settings, rasa, delivery, db_url=db_url)
    desk = AgentDesk(router)
    recovery = OutageRecovery(router)
    queue_watch = QueueWatch(router)
    email_channel = None
    if settings.email_enabled:
        from bot.email.channel import EmailChannel  # only with a mailbox configured

        email_channel = EmailChannel(settings, router, utcnow)
    if email_channel is not None:
        delivery.on_email = email_channel.outbound.loop.wake.set
    widget = WidgetChannel(sio, router)
    console = ConsoleSocket(sio, desk)

    app = web.Application(
        client_max_size=settings.hub.max_body_bytes,
        middlewares=[security_headers, console_api.errors_middleware, console_api.auth_middleware],
    )
    app[ROUTER] = router
    app[DESK] = desk
    app[THROTTLE] = LoginThrottle()
    app[EMAIL] = email_channel
    app[OPENAPI_DOC] = yaml.safe_load(OPENAPI.read_text())
    sio.attach(app, socketio_path="socket.io")
    console_api.add_routes(app)
    reports_api.add_routes(app)
    app.router.add_get("/", _page("demo.html"))
    app.router.add_get("/console", _page("console.html"))
    app.router.add_get("/reports", _page("reports.html"))
    app.router.add_get("/metrics", hub_metrics.handler(router.db_url, settings.hub.metrics_token))
    app.router.add_get("/widget.js", widget_script)
    app.router.add_get("/health", health)
    app.router.add_get("/api/openapi.json", openapi)
    app.router.add_static("/static", STATIC)

    # The hooks ignore the application they are called with, so they take any object: aiohttp 3.9
    # declares its signals for aiosignal 1.3, and with aiosignal 1.4 (whose Signal is generic in
    # the callbacks' arguments) mypy expects each hook to take a hook.
    async def start(_app: object) -> None:
        await router.instance.start()
        await recovery.recover()
        recovery.start()
        queue_watch.start()
        if email_channel is not None:
            email_channel.start()

    async def close_sockets(_app: object) -> None:
        # Widgets and consoles hear that the server went away, and reconnect by themselves.
        # Bounded: closing a socket whose client already left can wait for a reply that never comes.
        async def close_all() -> None:
            for sid in list(sio.eio.sockets):
                await sio.eio.disconnect(sid)

        try:
            await asyncio.wait_for(close_all(), 2)
        except asyncio.TimeoutError:
            logger.info("some sockets did not close within 2 s; stopping anyway")

    async def stop(_app: object) -> None:
        if email_channel is not None:
            await email_channel.stop()
        await recovery.stop()
        await queue_watch.stop()
        await rasa.close()
        await router.instance.stop()
        await dispose_engines()

    app.on_startup.append(start)
    app.on_shutdown.append(close_sockets)
    app.on_cleanup.append(stop)
    return app


def serve(settings: Settings) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = build_app(settings)
    print(
        f"Hub listening on {settings.hub_url} (widget demo: {settings.hub_url}/, "
        f"agent console: {settings.hub_url}/console)",
        flush=True,
    )
    print(email_status(settings), flush=True)
    # Requests in flight get 5 s to finish on stop; open sockets are closed at once (close_sockets).
    web.run_app(app, host=settings.hub.host, port=settings.hub.port, print=None, access_log=None, shutdown_timeout=5)
