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
