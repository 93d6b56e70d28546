"""Socket fan-out between hub processes over Redis, and catching up after Redis was away.

Redis pub/sub keeps nothing: what one hub publishes while Redis is away, or before another hub's
listener has subscribed again (python-socketio retries after 1, 2, 4 ... up to 60 s), never reaches
that other hub's sockets, though it is stored. So a hub whose connection to Redis was made again
calls ``on_reconnect`` shortly after (once its listener is subscribed), and the hub sends its own
widgets their history and tells its consoles to load everything again (bot.hub.app).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Awaitable, Callable, Optional

import socketio

logger = logging.getLogger(__name__)


class RedisFanOut(socketio.AsyncRedisManager):
    def __init__(self, url: str, on_reconnect: Callable[[], Awaitable[None]], delay_seconds: float = 1.0) -> None:
        super().__init__(url)
        self.on_reconnect = on_reconnect
        self.delay_seconds = delay_seconds
        self._connected_once = False
        self._catch_up: Optional[asyncio.Task] = None

    def _redis_connect(self) -> None:
        # python-socketio connects here before each subscription of its listener (the first, and after
        # every loss) and before publishing after a failed publish.
        super()._redis_connect()
        if not self._connected_once:
            self._connected_once = True
            return
        if self._catch_up is not None and not self._catch_up.done():
            self._catch_up.cancel()  # the last connection counts: it is the one that subscribed
        self._catch_up = asyncio.ensure_future(self._after_delay())

    async def _after_delay(self) -> None:
        await asyncio.sleep(self.delay_seconds)
        logger.info("connected to Redis again: sending this hub's widgets their history")
        try:
            await self.on_reconnect()
        except Exception:  # the next reconnection tries again; nothing else depends on it
            logger.exception("catching up after Redis came back failed")
