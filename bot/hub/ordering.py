"""Strict per-conversation order: a serial executor per key (a widget session or an
email thread). Each piece of work runs after everything queued before it for the same
key; different keys run concurrently."""

from __future__ import annotations

import asyncio
import logging
from typing import Awaitable, Callable, Dict

from bot.hub import metrics as hub_metrics

logger = logging.getLogger(__name__)


class SerialExecutor:
    def __init__(self) -> None:
        self._locks: Dict[str, asyncio.Lock] = {}
        self._tails: Dict[str, asyncio.Task] = {}

    def lock(self, key: str) -> asyncio.Lock:
        """Held while a message is stored, so two arrivals for one key get consecutive places."""
        return self._locks.setdefault(key, asyncio.Lock())

    def chain(self, key: str, work: Callable[[], Awaitable[None]]) -> None:
        """Runs ``work`` after everything already queued for this key."""
        previous = self._tails.get(key)

        async def run() -> None:
            if previous is not None:
                await asyncio.gather(previous, return_exceptions=True)
            try:
                await work()
            except Exception:  # one failed piece must not stop the ones after it
                logger.exception("work failed for conversation %s", key)
                hub_metrics.error("routing")

        task = asyncio.ensure_future(run())
        self._tails[key] = task
        task.add_done_callback(lambda t: self._tails.pop(key, None) if self._tails.get(key) is t else None)

    def busy(self, key: str) -> bool:
        """True while work for this key is queued or running."""
        return key in self._tails

    def idle(self, key: str) -> bool:
        """Nothing for this key is queued, running, or being stored (its lock is free)."""
        lock = self._locks.get(key)
        return key not in self._tails and not (lock is not None and lock.locked())

    @property
    def busy_anywhere(self) -> bool:
        return bool(self._tails)

    async def drain(self) -> None:
        """Waits until every queued piece of work is done (tests, shutdown)."""
        while self._tails:
            await asyncio.gather(*list(self._tails.values()), return_exceptions=True)
