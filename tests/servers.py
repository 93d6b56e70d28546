"""The real action server, Rasa server and hub, started once per test run the way
`bot start` starts them (by its Supervisor, which restarts a process that dies), on
a copy of the seeded database with the demo agents.

Their event loop runs in a thread of its own, so any test (async, or a sync
browser test) can use them; a test can hold one down on purpose and release it.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import threading
from typing import Any, Dict

import pytest

from bot import config, supervisor
from bot.db import dispose_engines, session_scope
from bot.demo import agents as hub_seed
from bot.training import MODEL_PATH
from tests.conftest import ITERATIONS, TODAY
from tests.imap_server import ImapServer
from tests.smtp_server import SmtpServer

# BOT_TEST_PORT_OFFSET moves these, so two checkouts can run their end-to-end tests at once.
_OFFSET = int(os.environ.get("BOT_TEST_PORT_OFFSET", "0"))
RASA_PORT, ACTION_PORT, HUB_PORT = 5105 + _OFFSET, 5155 + _OFFSET, 8105 + _OFFSET
# New internal tokens for every test run: the hub's to Rasa, Rasa's to the action server.
RASA_TOKEN, ACTION_TOKEN = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
AGENT_PASSWORD = "e2e agent password"


async def _seed_agents(url: str) -> None:
    import datetime as dt

    async with session_scope(url) as session:
        await hub_seed.seed_hub(session, AGENT_PASSWORD, dt.datetime.now(dt.timezone.utc))
    await dispose_engines()


class Servers:
    def __init__(self, settings: config.Settings, env: Dict[str, str], work, db_url: str) -> None:
        self.settings, self.env, self.work, self.db_url = settings, env, work, db_url
        self.hub_url = f"http://127.0.0.1:{HUB_PORT}"
        self.supervisor = supervisor.Supervisor(settings, MODEL_PATH, env=env, var_dir=work)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="e2e-servers", daemon=True)
        self.thread.start()

    def run(self, coroutine, timeout: float = 300) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def start(self) -> None:
        self.run(self.supervisor.start_all())

    def process(self, name: str) -> supervisor.Process:
        return self.supervisor.process(name)

    def stop_process(self, name: str) -> None:
        """Stops one on purpose: the supervisor leaves it down until restart_process."""
        self.run(self.supervisor.hold(name))

    def restart_process(self, name: str) -> None:
        self.run(self.supervisor.release(name))

    def close(self) -> None:
        self.run(self.supervisor.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@pytest.fixture(scope="session")
def servers(seeded_sqlite_template, tmp_path_factory):
    assert MODEL_PATH.exists(), "bin/setup trains the model before the tests"
    work = tmp_path_factory.mktemp("e2e")
    db_path = work / "bot.db"
    shutil.copy(seeded_sqlite_template, db_path)
    env_values = {
        "BOT_DATABASE_URL": f"sqlite+aiosqlite:///{db_path}",
        "BOT_TODAY": TODAY.isoformat(),
        "BOT_SECRET_HASH_ITERATIONS": str(ITERATIONS),
        "BOT_RASA_PORT": str(RASA_PORT),
        "BOT_ACTION_PORT": str(ACTION_PORT),
        "BOT_HUB_PORT": str(HUB_PORT),
        "BOT_HUB_HOST": "127.0.0.1",
        "BOT_RASA_TOKEN": RASA_TOKEN,
        "BOT_ACTION_TOKEN": ACTION_TOKEN,
        "BOT_RESTART_BACKOFF_MAX_SECONDS": "2",
        "BOT_BUSINESS_HOURS": "00:00-23:59:59.999999",
        "BOT_BUSINESS_DAYS": "mon,tue,wed,thu,fri,sat,sun",
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }
    # A real mailbox and SMTP server, so the hub answers email too (tests/e2e/test_email_journey.py).
    imap, smtp = ImapServer(), SmtpServer()
    imap.start()
    smtp.controller.start()
    env_values.update({
        "BOT_IMAP_HOST": imap.host, "BOT_IMAP_PORT": str(imap.port), "BOT_IMAP_USERNAME": imap.user,
        "BOT_IMAP_PASSWORD": imap.password, "BOT_IMAP_SECURITY": "none", "BOT_SMTP_HOST": smtp.host,
        "BOT_SMTP_PORT": str(smtp.port), "BOT_EMAIL_FROM_ADDRESS": "support@northwind.example", "BOT_EMAIL_POLL_SECONDS": "0.5",
    })
    servers = Servers(config.load_settings(env_values), {**os.environ, **env_values}, work,
                      env_values["BOT_DATABASE_URL"])
    servers.imap, servers.smtp = imap, smtp
    try:
        servers.run(_seed_agents(servers.db_url))
        servers.start()
        yield servers
    finally:
        servers.close()
        smtp.controller.stop()
        imap.stop()
