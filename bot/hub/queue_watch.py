"""Changes made outside this hub process reach its consoles: the dunning engine
(``bot dunning run`` from cron) and other hub processes put conversations in the
queue through their own lifecycle, which nobody here subscribes to. A light pass
every few seconds compares the queue with what was last sent and sends it again
when it differs."""

from __future__ import annotations

from typing import Optional, Tuple

from bot.conversations import handoffs
from bot.db import session_scope
from bot.hub.routing import Router
from bot.loops import Loop

INTERVAL_SECONDS = 5.0


class QueueWatch:
    def __init__(self, router: Router, interval: float = INTERVAL_SECONDS) -> None:
        self.router = router
        self._seen: Optional[Tuple] = None
        self._loop = Loop("queue watch", self.one_pass, interval)

    async def one_pass(self) -> None:
        async with session_scope(self.router.db_url) as session:
            waiting = await handoffs.queue(session)
            signature = tuple((c.id, c.status, h.id) for c, h in waiting)
            if self._seen is not None and signature != self._seen:
                await self.router.broadcast_queue(session)
        self._seen = signature

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()
