"""The Rasa server's stores from the settings: shared PostgreSQL and Redis stores for several Rasa
servers, the endpoints file's own stores otherwise; passwords never written to a file."""

from __future__ import annotations

from bot.config import load_settings
from bot.internal.rasa_server import endpoints_for, store_options


def test_store_options_from_urls():
    assert store_options("postgresql://rasa:s%40cret@db.internal:5433/rasa_trackers") == {
        "type": "SQL",
        "dialect": "postgresql",
        "url": "db.internal",
        "port": 5433,
        "db": "rasa_trackers",
        "username": "rasa",
        "password": "s@cret",
    }
    assert store_options("redis://:pw@127.0.0.1:6379/2") == {
        "type": "redis",
        "url": "127.0.0.1",
        "port": 6379,
        "db": 2,
        "password": "pw",
        "use_ssl": False,
    }
    assert store_options("rediss://cache")["use_ssl"] is True


def test_endpoints_take_the_shared_stores_from_the_settings(tmp_path):
    file = tmp_path / "endpoints.yml"
    file.write_text("tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: var/rasa_tracker.db\n")
    own = endpoints_for(load_settings({}), str(file))
    assert (own.tracker_store.type, own.tracker_store.kwargs["dialect"]) == ("SQL", "sqlite")
    assert own.lock_store is None
    shared = endpoints_for(
        load_settings({
            "BOT_RASA_TRACKER_STORE_URL": "postgresql://postgres@127.0.0.1:5432/rasa",
            "BOT_RASA_LOCK_STORE_URL": "redis://127.0.0.1:6379/1",
        }),
        str(file),
    )
    tracker_store = shared.tracker_store
    assert (tracker_store.type, tracker_store.url, tracker_store.kwargs["db"]) == ("SQL", "127.0.0.1", "rasa")
    assert (shared.lock_store.type, shared.lock_store.url, shared.lock_store.kwargs["db"]) == ("redis", "127.0.0.1", 1)
    assert shared.action.headers["Authorization"].startswith("Bearer ")

