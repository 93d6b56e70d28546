"""Shared fixtures: a fixed "today", seeded databases on SQLite and PostgreSQL,
and settings that point the code under test at them."""

from __future__ import annotations

import asyncio
import os
import concurrent.futures
import datetime as dt
import shutil
import uuid
from pathlib import Path
from typing import Dict, Iterator

import pytest
import sqlalchemy as sa

from bot import config
from bot.db import dispose_engines, migrate, session_scope
from bot.demo import seed

# A test-only setting, so it lives here and not in bot/config.py: the server the
# PostgreSQL variants of the tests create their throwaway databases on.
TEST_POSTGRES_URL = os.environ.get("BOT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")

TODAY = dt.date(2026, 11, 18)  # a Wednesday
ITERATIONS = 1000  # fast hashing in tests; production uses the configured default


def _seed_database(url: str) -> None:
    migrate.upgrade(url)

    async def fill() -> None:
        async with session_scope(url) as session:
            await seed.seed(session, TODAY, secret_iterations=ITERATIONS)
        await dispose_engines()

    # In a thread of its own: the first test asking for a database may already be
    # running inside an event loop.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, fill()).result()


@pytest.fixture(scope="session")
def seeded_sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "bot.db"
    _seed_database(f"sqlite+aiosqlite:///{path}")
    return path



@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A new PostgreSQL database for this test run, seeded, dropped afterwards."""
    admin_url = TEST_POSTGRES_URL
    name = f"bot_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:
        pytest.fail(
            f"PostgreSQL is not reachable at {admin_url} ({exc.orig}). Start it "
            "(see README, 'Services') or set BOT_TEST_POSTGRES_URL."
        )
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    _seed_database(url)
    yield url
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def use_settings(monkeypatch, **values: str) -> config.Settings:
    """Points get_settings() at test values (as BOT_* environment variables)."""
    env: Dict[str, str] = {
        "BOT_TODAY": TODAY.isoformat(),
        "BOT_SECRET_HASH_ITERATIONS": str(ITERATIONS),
        # Always inside business hours unless a test says otherwise.
        "BOT_BUSINESS_HOURS": "00:00-23:59:59.999999",
        "BOT_BUSINESS_DAYS": "mon,tue,wed,thu,fri,sat,sun",
    }
    env.update({f"BOT_{k.upper()}": v for k, v in values.items()})
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    config.get_settings.cache_clear()
    return config.get_settings()


@pytest.fixture
async def sqlite_db(seeded_sqlite_template, tmp_path, monkeypatch) -> str:
    """A fresh copy of the seeded SQLite database, configured as the bot's database."""
    path = tmp_path / "bot.db"
    shutil.copy(seeded_sqlite_template, path)
    url = f"sqlite+aiosqlite:///{path}"
    use_settings(monkeypatch, database_url=url)
    yield url
    await dispose_engines()
    config.get_settings.cache_clear()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def any_db(request, seeded_sqlite_template, tmp_path, monkeypatch) -> str:
    """The seeded database on each supported engine, in turn."""
    if request.param == "sqlite":
        path = tmp_path / "bot.db"
        shutil.copy(seeded_sqlite_template, path)
        url = f"sqlite+aiosqlite:///{path}"
    else:
        url = config.async_database_url(request.getfixturevalue("postgres_url"))
    use_settings(monkeypatch, database_url=url)
    yield url
    await dispose_engines()
    config.get_settings.cache_clear()


# The real servers (Rasa, actions, hub) for end-to-end and browser tests, and a real SMTP server.
from tests.servers import servers  # noqa: E402,F401
from tests.smtp_server import smtp_server  # noqa: E402,F401
from tests.imap_server import imap_server  # noqa: E402,F401
