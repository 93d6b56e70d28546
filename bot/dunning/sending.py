"""Sending a planned batch of letters with the claim protocol (see claims.py).

Claims are taken a batch at a time, letters go to SMTP a few at once, and what was
handed over is recorded in one transaction per batch. A failure the SMTP server
reports releases that letter's claim; a temporary one (unreachable, 4xx) also stops
the run, since the next letters would only wait for the same timeout.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, List, Optional, Sequence

from bot.db import session_scope
from bot.dunning import claims, records
from bot.dunning.notices import Outgoing
from bot.email import transport
from bot.email.errors import SendError, TemporaryFailure

logger = logging.getLogger(__name__)
Deliver = Callable[..., Awaitable[str]]


@dataclass
class SendResult:
    sent: List[Outgoing] = field(default_factory=list)
    taken_by_another_run: int = 0
    failed: List[str] = field(default_factory=list)
    stopped: Optional[str] = None


async def _bounded(limit: int, items: Sequence, work: Callable[[Any], Awaitable[None]]) -> None:
    """Runs ``work`` over ``items``, ``limit`` at a time; the first unexpected error cancels the rest."""
    pending = iter(items)

    async def worker() -> None:
        for item in pending:  # one shared iterator: each item is taken once
            await work(item)

    tasks = [asyncio.ensure_future(worker()) for _ in range(max(1, min(limit, len(items))))]
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def send_letters(
    url: str,
    settings,
    run_id: str,
    letters: Sequence[Outgoing],
    now: dt.datetime,
    deliver: Optional[Deliver] = None,
    batch: int = 200,
) -> SendResult:
    deliver = deliver or transport.deliver
    result = SendResult()
    for start in range(0, len(letters), batch):
        chunk = letters[start : start + batch]
        async with session_scope(url) as session:
            won = await claims.claim(session, run_id, [o.claim for o in chunk], now)
        mine = [o for o in chunk if o.claim.key in won]
        result.taken_by_another_run += len(chunk) - len(mine)
        delivered: List[Outgoing] = []
        failed: List[Outgoing] = []
        stop = asyncio.Event()

        async def one(
            letter: Outgoing,
            stop: asyncio.Event = stop,
            failed: List[Outgoing] = failed,
            delivered: List[Outgoing] = delivered,
        ) -> None:
            if stop.is_set():
                failed.append(letter)  # never tried: give the claim back
                return
            try:
                await deliver(letter.message, settings)
            except SendError as exc:
                failed.append(letter)
                result.failed.append(f"{letter.label} to {letter.to}: {exc}")
                logger.warning("dunning: %s not sent: %s", letter.label, exc)
                if isinstance(exc, TemporaryFailure):
                    result.stopped = f"stopped sending: {exc}"
                    stop.set()
                return
            delivered.append(letter)

        try:
            await _bounded(settings.dunning.send_concurrency, mine, one)
        finally:
            # Whatever else happened, what was handed over is recorded and what failed is released.
            # A letter cut off mid-send is neither: its claim stays for recovery after the lease.
            async with session_scope(url) as session:
                await records.record_sent(session, run_id, [o.claim for o in delivered], now)
                await claims.release(session, run_id, [o.claim.key for o in failed])
            result.sent.extend(delivered)
        if result.stopped:
            break
    return result
