"""Reading the settings: from the environment, once per process, plus the internal
tokens kept in a file when they are not configured."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import os
import secrets
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable, Dict, Mapping, Optional, Tuple

from bot.config.settings import RENAMED, ActionServerSettings, RasaSettings, Settings


class ConfigError(ValueError):
    """A configuration value is missing or malformed."""


Parser = Callable[[str], Any]


def _variables(cls: type, prefix: str = "") -> Dict[str, Tuple[Tuple[str, ...], Parser]]:
    """BOT_<PREFIX><FIELD> -> (path of fields, parser) for every setting of a class and its groups."""
    found: Dict[str, Tuple[Tuple[str, ...], Parser]] = {}
    for f in dataclasses.fields(cls):
        if "parse" in f.metadata:
            found[f"BOT_{prefix}{f.name.upper()}"] = ((f.name,), f.metadata["parse"])
        elif "group" in f.metadata:
            nested = _variables(_group_class(f), f.metadata["group"])
            found.update({name: ((f.name, *path), parse) for name, (path, parse) in nested.items()})
    return found


def _group_class(f: dataclasses.Field[Any]) -> Any:
    """The class of a group's field (declared by ``group()`` as its default factory)."""
    return f.default_factory


def variables() -> Tuple[str, ...]:
    """Every environment variable the product reads (for the docs and their test)."""
    return tuple(_variables(Settings))


def _read(environ: Mapping[str, str]) -> Dict[str, Dict[str, Any]]:
    """The values set in the environment, parsed: {group or "": {field: value}}."""
    for old, new in RENAMED.items():
        if environ.get(old):
            raise ConfigError(f"{old} is now called {new}")
    values: Dict[str, Dict[str, Any]] = defaultdict(dict)
    for variable, (path, parse) in _variables(Settings).items():
        raw = environ.get(variable)
        if raw is None or raw == "":
            continue
        try:
            value = parse(raw)
        except ValueError as exc:
            raise ConfigError(f"{variable}={raw!r} is invalid: {exc}") from exc
        group, field = (path[0], path[1]) if len(path) == 2 else ("", path[0])
        values[group][field] = value
    return values


def load_settings(environ: Mapping[str, str]) -> Settings:
    """Builds settings from a mapping of environment variables."""
    values = _read(environ)
    # Rasa's URL follows its port unless set on its own; so does the action server's.
    rasa, action = values["rasa"], values["action"]
    rasa.setdefault("url", f"http://127.0.0.1:{rasa.get('port', RasaSettings.port)}")
    action.setdefault("url", f"http://127.0.0.1:{action.get('port', ActionServerSettings.port)}/webhook")
    groups = {f.name: _group_class(f)(**values[f.name]) for f in dataclasses.fields(Settings) if "group" in f.metadata}
    rules = groups["escalation"]
    if rules.trend_negative_count > rules.trend_window:
        raise ConfigError("BOT_ESCALATION_TREND_NEGATIVE_COUNT cannot exceed BOT_ESCALATION_TREND_WINDOW")
    return Settings(**values[""], **groups)


def with_internal_tokens(settings: Settings) -> Settings:
    """Fills in the internal tokens that were not configured from the token file,
    creating it (owner-only) with new random tokens the first time: every process of
    one installation, and `bot chat` in another terminal, then agree without setup."""
    if settings.rasa.token and settings.action.token:
        return settings
    path = Path(settings.internal_token_file)
    try:
        stored = json.loads(path.read_text())
    except FileNotFoundError:
        stored = {"rasa_token": secrets.token_urlsafe(32), "action_token": secrets.token_urlsafe(32)}
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process wrote it first: use theirs
            stored = json.loads(path.read_text())
        else:
            with os.fdopen(fd, "w") as file:
                json.dump(stored, file)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read the internal tokens from {path}: {exc}") from exc
    if not all(isinstance(stored.get(k), str) and stored[k] for k in ("rasa_token", "action_token")):
        raise ConfigError(f"{path} must hold rasa_token and action_token; delete it to make new ones")
    return dataclasses.replace(
        settings,
        rasa=dataclasses.replace(settings.rasa, token=settings.rasa.token or stored["rasa_token"]),
        action=dataclasses.replace(settings.action, token=settings.action.token or stored["action_token"]),
    )


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once from the environment."""
    return with_internal_tokens(load_settings(os.environ))


def today(settings: Optional[Settings] = None) -> dt.date:
    """Today's date in the company's time zone (or the configured fixed date)."""
    settings = settings or get_settings()
    if settings.today is not None:
        return settings.today
    return dt.datetime.now(settings.tz).date()


def sync_database_url(url: str) -> str:
    """The synchronous driver URL for an async one (migrations run synchronously)."""
    return url.replace("+aiosqlite", "").replace("+asyncpg", "+psycopg2")


def async_database_url(url: str) -> str:
    """The asyncio driver URL for a plain one."""
    if url.startswith("sqlite://"):
        return url.replace("sqlite://", "sqlite+aiosqlite://", 1)
    if url.startswith("postgresql://"):
        return url.replace("postgresql://", "postgresql+asyncpg://", 1)
    if url.startswith("postgresql+psycopg2://"):
        return url.replace("postgresql+psycopg2://", "postgresql+asyncpg://", 1)
    return url
