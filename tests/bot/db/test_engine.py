"""The engine per database URL: file SQLite connections are pooled, in-memory ones shared."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from bot.db import dispose_engines, engine_for, session_scope


async def _connection_id(url: str) -> int:
    async with session_scope(url) as session:
        connection = await session.connection()
        raw = await connection.get_raw_connection()
        assert (await session.execute(text("select 1"))).scalar() == 1
        return id(raw.connection)


def test_a_file_database_reuses_its_connections_across_sessions_and_event_loops(tmp_path):
    url = f"sqlite:///{tmp_path / 'pool.db'}"

    async def twice():
        return [await _connection_id(url), await _connection_id(url)]

    first = asyncio.run(twice())
    assert first[0] == first[1]  # NullPool, SQLAlchemy 1.4's default, would open a second one
    # A CLI may run several event loops in one process: the pooled connection still answers.
    assert asyncio.run(twice())[0] == first[0]
    asyncio.run(dispose_engines())


def test_an_in_memory_database_keeps_its_single_connection():
    url = "sqlite://"

    async def check():
        engine = engine_for(url)
        assert type(engine.pool).__name__ == "StaticPool"
        await dispose_engines()

    asyncio.run(check())


def test_a_file_database_keeps_a_write_ahead_log_with_full_sync(tmp_path):
    url = f"sqlite:///{tmp_path / 'wal.db'}"

    async def pragmas():
        async with session_scope(url) as session:
            mode = (await session.execute(text("PRAGMA journal_mode"))).scalar()
            sync = (await session.execute(text("PRAGMA synchronous"))).scalar()
        await dispose_engines()
        return mode, sync

    assert asyncio.run(pragmas()) == ("wal", 2)  # 2: FULL, a commit survives a power cut
