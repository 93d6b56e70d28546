"""Background loops that stop between passes, never in the middle of one.

Cancelling a task while it is inside a database transaction can leave the
connection mid-rollback (seen with asyncpg and aiosqlite: the next query on it
waits forever). So a loop here is asked to stop, finishes the pass it is in,
and only its sleep is interrupted; it is cancelled only if it overruns a grace
period. ``asyncio.wait`` is used instead of ``wait_for``, which on Python 3.10
can swallow a cancellation.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Awaitable, Callable, Optional

logger = logging.getLogger(__name__)


class Loop:
    def __init__(self, name: str, one_pass: Callable[[], Awaitable[None]], interval: float) -> None:
        self.name = name
        self.one_pass = one_pass
        self.interval = interval
        self.wake = asyncio.Event()  # set to run the next pass now
        self._stopping = asyncio.Event()
        self._task: Optional[asyncio.Task] = None

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    async def _run(self) -> None:
        while not self.stopping:
            try:
                await self.one_pass()
            except Exception:  # a bad pass must not end the loop
                logger.exception("%s: pass failed", self.name)
            await self.sleep(self.interval)

    async def sleep(self, seconds: float) -> None:
        """Waits ``seconds``, or less when woken or asked to stop."""
        waiters = {asyncio.ensure_future(self.wake.wait()), asyncio.ensure_future(self._stopping.wait())}
        try:
            await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
        self.wake.clear()

    async def unless_stopped(self, waiting: "asyncio.Future") -> None:
        """Awaits ``waiting`` (a wait, not work) but gives up on it as soon as the loop is asked to stop."""
        stopper = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait({waiting, stopper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopper.cancel()
        if not waiting.done():
            waiting.cancel()
            await asyncio.gather(waiting, return_exceptions=True)
        else:
            error = waiting.exception()
            if error is not None:
                raise error

    def start(self) -> None:
        if self._task is None:
            self._stopping.clear()
            self._task = asyncio.ensure_future(self._run())

    async def stop(self, grace: float = 30.0) -> None:
        if self._task is None:
            return
        self._stopping.set()
        done, _ = await asyncio.wait({self._task}, timeout=grace)
        if not done:
            logger.warning("%s did not stop within %.0f s; cancelling it", self.name, grace)
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self._task = None
