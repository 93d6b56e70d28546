"""Schema migrations (Alembic), run from code: `bot db upgrade`."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from alembic import command
from alembic.config import Config

from bot.config import get_settings, sync_database_url

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: Optional[str] = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", sync_database_url(url or get_settings().database_url))
    return config


def _ensure_sqlite_directory(url: str) -> None:
    if url.startswith("sqlite") and ":///" in url:
        path = url.split(":///", 1)[1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)


def upgrade(url: Optional[str] = None, revision: str = "head") -> None:
    url = url or get_settings().database_url
    _ensure_sqlite_directory(url)
    command.upgrade(alembic_config(url), revision)


def downgrade(url: Optional[str] = None, revision: str = "base") -> None:
    command.downgrade(alembic_config(url), revision)
