"""Migrations build exactly the schema the models describe, up and down."""

import asyncio
import datetime as dt

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from bot.config import sync_database_url
from bot.db import dispose_engines, migrate, session_scope
from bot.demo import seed
from bot.schema import metadata


def _diff(url):
    engine = sa.create_engine(sync_database_url(url))
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), metadata)
    engine.dispose()
    return diff


def test_migrated_schema_matches_the_models(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    migrate.upgrade(url)
    assert _diff(url) == []


def test_migrated_schema_matches_the_models_on_postgres(postgres_url):
    assert _diff(postgres_url) == []


def test_downgrade_removes_everything(tmp_path):
    url = f"sqlite:///{tmp_path / 'down.db'}"
    migrate.upgrade(url)
    migrate.downgrade(url, "base")
    engine = sa.create_engine(url)
    assert set(sa.inspect(engine).get_table_names()) == {"alembic_version"}
    engine.dispose()


def test_one_reminder_per_stage_per_invoice(tmp_path):
    """The database itself refuses a second reminder for the same stage."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'u.db'}"
    migrate.upgrade(url)

    async def scenario():
        async with session_scope(url) as session:
            await seed.seed(session, dt.date(2026, 11, 18), filler=0, secret_iterations=1000)
        try:
            async with session_scope(url) as session:
                reminder = (await session.execute(sa.text(
                    "SELECT invoice_id, stage FROM reminders LIMIT 1"))).first()
                await session.execute(sa.text(
                    "INSERT INTO reminders (invoice_id, stage, channel, sent_at) VALUES (:i, :s, 'email', :t)"),
                    {"i": reminder[0], "s": reminder[1], "t": dt.datetime(2026, 11, 18)})
        except sa.exc.IntegrityError:
            return True
        finally:
            await dispose_engines()
        return False

    assert asyncio.run(scenario())


def test_0009_fills_the_report_columns_from_the_rows_already_stored(tmp_path):
    """Each conversation's next start in its customer's line, each handoff's first agent reply."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    migrate.upgrade(url, "0008")
    engine = sa.create_engine(url)
    with engine.begin() as c:
        for id_, key, customer, day in ((1, "s1", None, 1), (2, "s1", None, 3), (3, "s2", None, 2), (4, "s1", None, 9)):
            c.execute(sa.text(
                "INSERT INTO conversations (id, public_id, channel, session_key, customer_id, status, queue_notice_sent,"
                " outage_notice_sent, rasa_needs_resume, created_at, updated_at)"
                " VALUES (:id, :id, 'web', :key, :customer, 'bot', 0, 0, 0, :at, :at)"),
                {"id": id_, "key": key, "customer": customer, "at": f"2026-11-0{day} 10:00:00.000000"})
        c.execute(sa.text("INSERT INTO handoffs (id, conversation_id, reason, priority, summary, requested_at)"
                          " VALUES (1, 2, 'anger', 1, '{}', '2026-11-03 10:05:00.000000')"))
        for id_, sender, minute in ((1, "agent", 4), (2, "customer", 6), (3, "agent", 7), (4, "agent", 8)):
            c.execute(sa.text("INSERT INTO messages (id, conversation_id, sender, text, delivery, created_at)"
                              " VALUES (:id, 2, :sender, 'x', 'sent', :at)"),
                      {"id": id_, "sender": sender, "at": f"2026-11-03 10:0{minute}:00.000000"})
    migrate.upgrade(url)
    with engine.connect() as c:
        next_starts = dict(c.execute(sa.text("SELECT id, next_start_at FROM conversations")).all())
        reply = c.execute(sa.text("SELECT first_agent_reply_at FROM handoffs")).scalar_one()
    engine.dispose()
    assert next_starts == {1: "2026-11-03 10:00:00.000000", 2: "2026-11-09 10:00:00.000000", 3: None, 4: None}
    assert reply == "2026-11-03 10:07:00.000000"
