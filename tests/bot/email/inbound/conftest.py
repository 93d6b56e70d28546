"""Running single filters of the inbound chain on a real (seeded SQLite) database."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.config import get_settings
from bot.db import session_scope
from bot.accounts import queries
from bot.email import parse
from bot.email.inbound.arrival import Arrival, stable_message_id

NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.timezone.utc)


def arrival(raw: bytes, now: dt.datetime = NOW) -> Arrival:
    mail = parse.parse(raw)
    return Arrival(raw=raw, mail=mail, message_id=stable_message_id(mail, raw), settings=get_settings(), now=now)


async def customer(address: str):
    async with session_scope() as session:
        return await queries.find_customer(session, address)


@pytest.fixture
def db(sqlite_db):
    return sqlite_db
