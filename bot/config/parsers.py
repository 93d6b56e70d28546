"""Parsers of setting values: each turns the raw text of one environment variable into
its value, or raises ValueError saying what was expected."""

from __future__ import annotations

import datetime as dt
import urllib.parse
from typing import Callable, Tuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def parse_bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ValueError("expected one of true/false/1/0/yes/no/on/off")


def parse_list(raw: str) -> Tuple[str, ...]:
    return tuple(part.strip() for part in raw.split(",") if part.strip())


def parse_timezone(raw: str) -> str:
    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {raw!r}") from exc
    return raw


def parse_hours(raw: str) -> Tuple[dt.time, dt.time]:
    """Parses '09:00-17:00' into opening and closing times."""
    try:
        start_raw, end_raw = raw.split("-")
        start = dt.time.fromisoformat(start_raw.strip())
        end = dt.time.fromisoformat(end_raw.strip())
    except ValueError as exc:
        raise ValueError("expected HH:MM-HH:MM, for example 09:00-17:00") from exc
    if start >= end:
        raise ValueError("opening time must be before closing time")
    return start, end


def parse_weekdays(raw: str) -> Tuple[int, ...]:
    """Parses 'mon,tue,...' into ISO weekday numbers (Monday = 1)."""
    names = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    days = []
    for part in parse_list(raw.lower()):
        if part[:3] not in names:
            raise ValueError(f"unknown weekday {part!r}")
        days.append(names.index(part[:3]) + 1)
    if not days:
        raise ValueError("at least one weekday is needed")
    return tuple(sorted(set(days)))


def positive_int(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise ValueError("must be 1 or more")
    return value


def positive_float(raw: str) -> float:
    value = float(raw)
    if not value > 0:
        raise ValueError("must be more than 0")
    return value


def parse_url(raw: str) -> str:
    if not raw.startswith(("http://", "https://")):
        raise ValueError("expected an http:// or https:// URL")
    return raw.rstrip("/")


def parse_url_list(raw: str) -> Tuple[str, ...]:
    """Comma-separated http(s) URLs, each checked like parse_url."""
    return tuple(parse_url(part) for part in parse_list(raw))


def parse_store_url(*schemes: str) -> Callable[[str], str]:
    """A parser for a store's URL with one of ``schemes`` (postgresql://, redis:// ...)."""

    def parse(raw: str) -> str:
        parts = urllib.parse.urlsplit(raw.strip())
        if parts.scheme not in schemes or not parts.hostname:
            raise ValueError(f"expected a {' or '.join(s + '://' for s in schemes)} URL with a host")
        return raw.strip()

    return parse


def parse_smtp_security(raw: str) -> str:
    value = raw.strip().lower()
    if value not in ("none", "starttls", "tls"):
        raise ValueError("expected none, starttls or tls")
    return value


def parse_imap_security(raw: str) -> str:
    value = raw.strip().lower()
    if value not in ("none", "tls"):
        raise ValueError("expected tls or none")
    return value


def parse_address(raw: str) -> str:
    value = raw.strip()
    if "@" not in value or any(c in value for c in "\r\n"):
        raise ValueError("expected an email address")
    return value


def parse_token(raw: str) -> str:
    value = raw.strip()
    if len(value) < 16 or any(c.isspace() for c in value):
        raise ValueError("a token needs at least 16 characters and no spaces")
    return value


def probability(raw: str) -> float:
    value = float(raw)
    if not 0.0 <= value <= 1.0:
        raise ValueError("must be between 0 and 1")
    return value
