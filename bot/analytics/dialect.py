"""What the report's SQL does differently on SQLite and PostgreSQL, and reading its rows into facts.

Used by :mod:`bot.analytics.facts`. Times are aware UTC on the way out, whatever the database.
"""

from __future__ import annotations

import datetime as dt
from itertools import starmap
from typing import Any, Callable, Collection, List, Optional, TypeVar

from sqlalchemy import Integer, case, cast, func
from sqlalchemy.ext.asyncio import AsyncSession

Fact = TypeVar("Fact")


def utc(moment: Any) -> Optional[dt.datetime]:
    """SQLite hands back naive UTC (and its hour buckets as text); PostgreSQL aware times."""
    if isinstance(moment, str):
        moment = dt.datetime.fromisoformat(moment)
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=dt.timezone.utc)


class Sql:
    """The few expressions SQLite and PostgreSQL spell differently."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.postgres = session.get_bind().dialect.name == "postgresql"

    def hour(self, column: Any) -> Any:
        if self.postgres:
            return func.date_trunc("hour", column)
        return func.strftime("%Y-%m-%d %H:00:00", column)

    def seconds(self, later: Any, earlier: Any) -> Any:
        if self.postgres:  # date_part is double precision; EXTRACT is numeric (slower, read as a Decimal)
            return func.date_part("epoch", later - earlier)
        # julianday is a float of days: round to the millisecond so 7 days stay 7 days.
        return func.round((func.julianday(later) - func.julianday(earlier)) * 86400.0, 3)

    def days_up(self, later: Any, earlier: Any) -> Any:
        """Whole days from earlier to later, rounded up (ceil)."""
        days = self.seconds(later, earlier) / 86400.0
        if self.postgres:
            return cast(func.ceil(days), Integer)
        truncated = cast(days, Integer)  # SQLite truncates towards zero: already ceil below zero
        return truncated + case((days > truncated, 1), else_=0)

    async def facts(self, kind: Callable[..., Fact], query: Any, times: Collection[int] = ()) -> List[Fact]:
        """The rows of ``query``, whose columns are the fields of ``kind`` in order, as ``kind``s.

        Read on the session's connection, without the ORM's result machinery (a 90-day report reads
        tens of thousands of rows, and that layer doubled the time to read them). PostgreSQL's rows
        are ready as they come; on SQLite the columns numbered in ``times`` go through :func:`utc`."""
        connection = await self.session.connection()
        rows = (await connection.execute(query)).all()
        if self.postgres or not times:
            return list(starmap(kind, rows))
        return [kind(*[utc(value) if n in times else value for n, value in enumerate(row)]) for row in rows]
