"""Hub processes sharing one PostgreSQL database: each is alive while it holds its advisory lock,
its claimed messages are left alone while it lives, picked up once its connection is gone (as after
kill -9), and a kept message is claimed by exactly one process."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import text

from bot import config
from bot.conversations import claims, store
from bot.conversations.models import Message
from bot.db import dispose_engines, session_scope
from bot.hub.instance import HubInstance
from tests.conftest import TODAY

NOW = dt.datetime.combine(TODAY, dt.time(12), tzinfo=dt.timezone.utc)


async def _message(url: str, claimed_by: int, key: str) -> int:
    async with session_scope(url) as session:
        conversation = await store.create_conversation(session, "web", key, NOW)
        message, _ = await store.add_message(session, conversation, "customer", "hello", "received", NOW, claimed_by=claimed_by)
        return message.id


async def _delivery(url: str, message_id: int) -> str:
    async with session_scope(url) as session:
        return (await session.get(Message, message_id)).delivery


@pytest.mark.postgres
async def test_messages_of_a_killed_hub_are_picked_up_and_claimed_once(postgres_url):
    url = config.async_database_url(postgres_url)
    a, b = HubInstance(url), HubInstance(url)
    await a.start()
    await b.start()
    try:
        mine = await _message(url, a.id, "s-instance-1")
        async with session_scope(url) as session:
            assert {a.id, b.id} <= set(await b.live_ids(session))
            assert mine not in [mid for mid, _ in await claims.orphaned_customer_messages(session, await b.live_ids(session))]

        # kill -9 of hub A: PostgreSQL ends its connection and with it the lock.
        async with session_scope(url) as session:
            await session.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND objid = :id"),
                {"id": a.id},
            )
        async with session_scope(url) as session:
            for _ in range(50):
                live = await b.live_ids(session)
                if a.id not in live:
                    break
                await asyncio.sleep(0.1)
            assert a.id not in live
            orphans = await claims.orphaned_customer_messages(session, live)
            assert (mine, "bot") in orphans
            await claims.release_orphans(session, [mine], "waiting_for_bot")
        assert await _delivery(url, mine) == "waiting_for_bot"

        # Two hubs' retry passes race for the kept message: one wins.
        async def claim(hub: HubInstance) -> bool:
            async with session_scope(url) as session:
                return await claims.claim_for_bot(session, mine, hub.id)

        c = HubInstance(url)
        assert sorted(await asyncio.gather(claim(b), claim(c))) == [False, True]
        assert await _delivery(url, mine) == "received"

        # Hub A's connection came back (a database restart, not a kill): it takes its lock again.
        await a.keep_alive()
        async with session_scope(url) as session:
            assert a.id in await b.live_ids(session)
    finally:
        await a.stop()
        await b.stop()
        await dispose_engines()


async def test_on_sqlite_every_other_hub_is_gone(sqlite_db):
    hub = HubInstance(sqlite_db)
    await hub.start()
    stored_by_me = await _message(sqlite_db, hub.id, "s-instance-2")
    stored_before_restart = await _message(sqlite_db, hub.id + 1, "s-instance-3")
    async with session_scope(sqlite_db) as session:
        assert await hub.live_ids(session) == [hub.id]
        orphans = [mid for mid, _ in await claims.orphaned_customer_messages(session, await hub.live_ids(session))]
    assert orphans == [stored_before_restart]
    assert stored_by_me not in orphans
    await hub.stop()
