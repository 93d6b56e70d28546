"""This hub process among several sharing one PostgreSQL database.

Each process holds a PostgreSQL advisory lock on its own id for as long as it lives, on a
connection of its own; PostgreSQL drops the lock when the process dies (even by kill -9), so the
live processes are exactly the lock holders (``pg_locks``). Messages a process claimed
(bot.conversations.claims) are left alone while it lives and picked up once it is gone. On SQLite
there is one hub process, so every other id is a process that is gone.
"""

from __future__ import annotations

import logging
import secrets
from typing import List, Optional

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from bot.db import engine_for

logger = logging.getLogger(__name__)

# The advisory lock's first key: hub processes (the second key is the process's id).
LOCK_NAMESPACE = 0x6875_6273  # "hubs"


class HubInstance:
    def __init__(self, db_url: str) -> None:
        # A positive int4, the second key of pg_advisory_lock(int, int).
        self.id = secrets.randbelow(2**31 - 2) + 1
        self.db_url = db_url
        self.shared = db_url.startswith("postgresql")
        self._connection: Optional[AsyncConnection] = None

    async def start(self) -> None:
        await self.keep_alive()

    async def keep_alive(self) -> None:
        """Holds the lock; takes it again on a new connection if the old one was lost (a
        database restart), so this process counts as alive again."""
        if not self.shared:
            return
        if self._connection is not None:
            try:
                await self._connection.execute(text("SELECT 1"))
                await self._connection.commit()
                return
            except Exception as exc:  # the connection is gone: take the lock again on a new one
                logger.warning("hub %s lost its liveness lock (%r); taking it again", self.id, exc)
                await self._discard()
        connection = await engine_for(self.db_url).connect()
        await connection.execute(text("SELECT pg_advisory_lock(:ns, :id)"), {"ns": LOCK_NAMESPACE, "id": self.id})
        await connection.commit()
        self._connection = connection

    async def live_ids(self, session: AsyncSession) -> List[int]:
        """The ids of the hub processes alive now, this one always included."""
        if not self.shared:
            return [self.id]
        result = await session.execute(
            text(
                "SELECT objid::bigint FROM pg_locks WHERE locktype = 'advisory' AND classid = :ns"
                " AND objsubid = 2 AND granted"
            ),
            {"ns": LOCK_NAMESPACE},
        )
        return sorted({int(row[0]) for row in result.all()} | {self.id})

    async def _discard(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                await connection.invalidate()
            except Exception:  # already broken; nothing to release
                pass

    async def stop(self) -> None:
        if self._connection is not None:
            try:
                await self._connection.execute(
                    text("SELECT pg_advisory_unlock(:ns, :id)"), {"ns": LOCK_NAMESPACE, "id": self.id}
                )
                await self._connection.commit()
                await self._connection.close()
            except Exception:  # the database went away; the lock went with it
                pass
            self._connection = None
