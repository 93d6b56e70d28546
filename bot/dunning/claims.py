"""Claim before acting, record after: how a reminder goes out exactly once.

1. claim: insert a row with a unique key ("reminder:INV-20015:friendly") and this
   run's id, ignoring duplicates, and commit. The rows carrying our run id are ours;
   a concurrent run's insert of the same key does nothing, so only one run acts.
2. act: send the email (or charge the card) outside any transaction.
3. record: in one transaction mark the claim done and write what it did (the
   Reminder row, the late fee, the agents' queue item).
   A failure we see (SMTP refused, template broken) releases the claim: nothing is
   marked sent that was not sent, and the next run tries again.
4. recover: a claim still "claimed" after the lease belongs to a run that died
   between acting and recording. The next run records it as "unconfirmed" without
   acting again: a possibly missing letter is better than a certainly doubled one.
   (Card charges are re-asked with the same idempotency key instead; see retries.)
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any, Collection, Dict, Iterable, List, Optional, Sequence, Set

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.dunning.models import DunningClaim

BATCH = 500  # keys per IN (...) list: well under every database's parameter limit


@dataclass(frozen=True)
class Claim:
    key: str
    kind: str
    customer_id: int
    invoice_id: Optional[int] = None
    stage: Optional[str] = None
    message_id: Optional[str] = None
    # What recording needs later, also after a crash: fee, hand-over, amount charged...
    detail: Dict[str, Any] = field(default_factory=dict)


def _insert(session: AsyncSession):
    dialect = session.bind.dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(DunningClaim).on_conflict_do_nothing(index_elements=["key"])


def _chunks(items: Sequence, size: int = BATCH) -> Iterable[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def claim(session: AsyncSession, run_id: str, claims: Sequence[Claim], now: dt.datetime) -> Set[str]:
    """Inserts the claims; returns the keys this run won. Commit before acting on them."""
    won: Set[str] = set()
    for chunk in _chunks(list(claims)):
        await session.execute(
            _insert(session),
            [
                {
                    "key": c.key,
                    "kind": c.kind,
                    "customer_id": c.customer_id,
                    "invoice_id": c.invoice_id,
                    "stage": c.stage,
                    "message_id": c.message_id,
                    "run_id": run_id,
                    "state": "claimed",
                    "claimed_at": now,
                    "detail": json.dumps(c.detail, default=str),
                }
                for c in chunk
            ],
        )
        rows = await session.execute(
            select(DunningClaim.key).where(
                DunningClaim.key.in_([c.key for c in chunk]),
                DunningClaim.run_id == run_id,
                DunningClaim.state == "claimed",
            )
        )
        won.update(rows.scalars().all())
    return won


async def finish(session: AsyncSession, run_id: str, keys: Sequence[str], now: dt.datetime, state: str = "done") -> int:
    """Marks our claims done (or unconfirmed); returns how many were still ours to finish."""
    finished = 0
    for chunk in _chunks(list(keys)):
        result = await session.execute(
            update(DunningClaim)
            .where(DunningClaim.key.in_(list(chunk)), DunningClaim.run_id == run_id, DunningClaim.state == "claimed")
            .values(state=state, done_at=now)
            .execution_options(synchronize_session=False)
        )
        finished += result.rowcount
    return finished


async def release(session: AsyncSession, run_id: str, keys: Sequence[str]) -> None:
    """Gives claims back after a failure we saw: the action did not happen."""
    for chunk in _chunks(list(keys)):
        await session.execute(
            delete(DunningClaim)
            .where(DunningClaim.key.in_(list(chunk)), DunningClaim.run_id == run_id, DunningClaim.state == "claimed")
            .execution_options(synchronize_session=False)
        )


async def stale(
    session: AsyncSession, now: dt.datetime, lease: dt.timedelta, customers: Optional[Collection[int]] = None
) -> List[DunningClaim]:
    """Claims left in flight longer than the lease: their run died between acting and recording."""
    query = select(DunningClaim).where(DunningClaim.state == "claimed", DunningClaim.claimed_at < now - lease)
    if customers is not None:
        query = query.where(DunningClaim.customer_id.in_(list(customers)))
    rows = await session.execute(query.order_by(DunningClaim.id))
    return list(rows.scalars().all())


async def take_over(session: AsyncSession, claim_id: int, old_run_id: str, run_id: str) -> bool:
    """Compare-and-set: only one recovering run adopts a dead run's claim."""
    result = await session.execute(
        update(DunningClaim)
        .where(DunningClaim.id == claim_id, DunningClaim.run_id == old_run_id, DunningClaim.state == "claimed")
        .values(run_id=run_id)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def from_row(row: DunningClaim) -> Claim:
    return Claim(
        row.key, row.kind, row.customer_id, row.invoice_id, row.stage, row.message_id, json.loads(row.detail or "{}")
    )


async def counts(session: AsyncSession) -> Dict[str, int]:
    """Claims by state (for the report and the tests)."""
    rows = await session.execute(select(DunningClaim.state, func.count()).group_by(DunningClaim.state))
    return {state: count for state, count in rows.all()}


async def existing(session: AsyncSession, keys: Sequence[str]) -> Set[str]:
    """Which of these keys were claimed already, by any run (to skip planning them again)."""
    found: Set[str] = set()
    for chunk in _chunks(list(keys)):
        rows = await session.execute(select(DunningClaim.key).where(DunningClaim.key.in_(list(chunk))))
        found.update(rows.scalars().all())
    return found
