"""A running hub for socket and HTTP tests: the real aiohttp app on a free port,
on a seeded database, with a scripted Rasa (the real Rasa is in tests/e2e)."""

from __future__ import annotations

import datetime as dt
import socket
from dataclasses import dataclass
from typing import Optional

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import delete

from bot.config import get_settings
from bot.conversations.models import Agent, AgentSession, CannedReply, Conversation, CsatRating, Handoff, Message, Note
from bot.db import session_scope
from bot.demo import agents as hub_seed
from bot.hub.app import build_app
from bot.hub.console_api import ROUTER
from tests.bot.hub.fakes import ScriptedRasa
from tests.hub_clients import Customer

PASSWORD = "correct horse battery"


async def clear_hub_tables() -> None:
    """The PostgreSQL database is shared by the whole run: start each test from no conversations."""
    async with session_scope() as session:
        for model in (CsatRating, Note, Handoff, Message, Conversation, AgentSession, Agent, CannedReply):
            await session.execute(delete(model))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class RunningHub:
    url: str
    rasa: ScriptedRasa
    app: web.Application
    runner: web.AppRunner

    @property
    def router(self):
        return self.app[ROUTER]

    async def login(self, email: str = "alex@northwind.example", password: str = PASSWORD) -> aiohttp.ClientSession:
        http = aiohttp.ClientSession(base_url=self.url, cookie_jar=aiohttp.CookieJar(unsafe=True))
        async with http.post("/api/auth/login", json={"email": email, "password": password}) as response:
            assert response.status == 200, await response.text()
        return http

    async def customer(self, session_id: Optional[str] = None) -> Customer:
        return await Customer.connect(self.url, session_id)


async def start_hub(rasa: ScriptedRasa, port: Optional[int] = None) -> RunningHub:
    settings = get_settings()
    app = build_app(settings, rasa=rasa)
    runner = web.AppRunner(app)
    await runner.setup()
    port = port or free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return RunningHub(f"http://127.0.0.1:{port}", rasa, app, runner)


@pytest.fixture
async def running_hub(any_db, monkeypatch):
    from tests.conftest import use_settings

    use_settings(monkeypatch, database_url=any_db, rasa_retry_seconds="0.2")
    await clear_hub_tables()
    async with session_scope() as session:
        await hub_seed.seed_hub(session, PASSWORD, dt.datetime.now(dt.timezone.utc))
    hub = await start_hub(ScriptedRasa())
    yield hub
    await hub.runner.cleanup()
