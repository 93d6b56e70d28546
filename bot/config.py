"""The one place that reads configuration.

Every setting has a type and a default that runs the product on embedded
parts (SQLite, no external services). Values come from environment variables
named ``BOT_<NAME>``; a bad value fails loudly at start-up with the variable's
name, instead of surfacing later as a strange error. Nothing else in the
project reads the environment: other modules call :func:`get_settings`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import email.utils
import functools
import json
import os
import secrets
from pathlib import Path
from typing import Any, Callable, Dict, Mapping, Optional, Tuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(ValueError):
    """A configuration value is missing or malformed."""


def _parse_bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ValueError("expected one of true/false/1/0/yes/no/on/off")


def _parse_list(raw: str) -> Tuple[str, ...]:
    return tuple(part.strip() for part in raw.split(",") if part.strip())


def _parse_timezone(raw: str) -> str:
    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {raw!r}") from exc
    return raw


def _parse_hours(raw: str) -> Tuple[dt.time, dt.time]:
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


def _parse_weekdays(raw: str) -> Tuple[int, ...]:
    """Parses 'mon,tue,...' into ISO weekday numbers (Monday = 1)."""
    names = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    days = []
    for part in _parse_list(raw.lower()):
        if part[:3] not in names:
            raise ValueError(f"unknown weekday {part!r}")
        days.append(names.index(part[:3]) + 1)
    if not days:
        raise ValueError("at least one weekday is needed")
    return tuple(sorted(set(days)))


def _positive_int(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise ValueError("must be 1 or more")
    return value


def _positive_float(raw: str) -> float:
    value = float(raw)
    if not value > 0:
        raise ValueError("must be more than 0")
    return value


def _parse_url(raw: str) -> str:
    if not raw.startswith(("http://", "https://")):
        raise ValueError("expected an http:// or https:// URL")
    return raw.rstrip("/")


def _parse_smtp_security(raw: str) -> str:
    value = raw.strip().lower()
    if value not in ("none", "starttls", "tls"):
        raise ValueError("expected none, starttls or tls")
    return value


def _parse_imap_security(raw: str) -> str:
    value = raw.strip().lower()
    if value not in ("none", "tls"):
        raise ValueError("expected tls or none")
    return value


def _parse_address(raw: str) -> str:
    value = raw.strip()
    if "@" not in value or any(c in value for c in "\r\n"):
        raise ValueError("expected an email address")
    return value


def _parse_token(raw: str) -> str:
    value = raw.strip()
    if len(value) < 16 or any(c.isspace() for c in value):
        raise ValueError("a token needs at least 16 characters and no spaces")
    return value


def _probability(raw: str) -> float:
    value = float(raw)
    if not 0.0 <= value <= 1.0:
        raise ValueError("must be between 0 and 1")
    return value


@dataclasses.dataclass(frozen=True)
class EscalationRules:
    """When a conversation goes to a person (read by bot.escalation)."""

    # One message whose negative probability is at least this is "strongly negative".
    strong_negative: float = 0.85
    # A run of negative messages: this many of the last `trend_window` messages.
    trend_window: int = 4
    trend_negative_count: int = 3
    # A message counts as negative in the trend when its negative probability is at least this.
    negative: float = 0.5
    # Consecutive low-confidence (nlu_fallback) messages before a person takes over.
    fallback_limit: int = 2
    # The same request this many times within the last `repeat_window` messages.
    repeat_limit: int = 3
    repeat_window: int = 6
    # Intents that always need a person, mapped to the reason recorded (bot.escalation.TOPIC_REASONS).
    # A gas smell gets the emergency number and a person; a possibly stolen card gets advice to block
    # it and a person. what_can_you_do must never be here: it answers what the bot can do.
    topic_intents: Tuple[str, ...] = (
        "gas_leak",
        "card_stolen",
        "request_human",
        "dispute_charge",
        "cannot_pay",
        "cancel_account",
        "charged_twice",
        "refund_request",
    )
    # Words that mark a legal threat, whatever the intent.
    legal_keywords: Tuple[str, ...] = (
        "lawyer",
        "attorney",
        "solicitor",
        "sue",
        "suing",
        "lawsuit",
        "court",
        "legal action",
        "ombudsman",
    )
    # Intents that do not count as "asking the same thing again".
    repeat_ignored_intents: Tuple[str, ...] = (
        "greet",
        "goodbye",
        "thanks",
        "affirm",
        "deny",
        "what_can_you_do",
        "provide_identifier",
        "nlu_fallback",
    )


@dataclasses.dataclass(frozen=True)
class Settings:
    database_url: str
    company_name: str = "Northwind Energy"
    support_email: str = "support@northwind.example"
    support_phone: str = "+1 800 555 0199"
    # Said at once to a customer who smells gas (with 911), before a person takes over.
    gas_emergency_phone: str = "+1 800 555 0111"
    payment_link_base: str = "https://pay.northwind.example/invoice/"
    card_update_link: str = "https://pay.northwind.example/account/card"
    timezone: str = "America/New_York"
    business_hours: Tuple[dt.time, dt.time] = (dt.time(9), dt.time(17))
    business_days: Tuple[int, ...] = (1, 2, 3, 4, 5)
    rasa_port: int = 5005
    action_port: int = 5055
    rasa_url: str = "http://127.0.0.1:5005"
    # Rasa and the action server are internal: they listen on loopback unless a
    # multi-host deployment says otherwise, and refuse calls without their token.
    rasa_host: str = "127.0.0.1"
    action_host: str = "127.0.0.1"
    # Where the Rasa server calls the action server; derived from action_port when empty.
    action_url: str = ""
    # Shared secrets: the hub (and `bot chat`) to Rasa, Rasa to the action server. When unset,
    # each is generated once and kept in `internal_token_file`, readable only by its owner.
    rasa_token: str = ""
    action_token: str = ""
    internal_token_file: str = str(PROJECT_ROOT / "var" / "internal-tokens.json")
    # `bot start` restarts a process that dies, waiting 1, 2, 4 ... seconds up to this long.
    restart_backoff_max_seconds: float = 30.0
    # The hub: the front door for the widget and the agent console.
    hub_host: str = "0.0.0.0"
    hub_port: int = 8000
    # What the hub prints and puts in links; derived from hub_port when empty.
    public_url: str = ""
    # How long the hub waits for Rasa to answer one message.
    rasa_timeout_seconds: float = 30.0
    # While Rasa is unreachable, kept messages are retried this often...
    rasa_retry_seconds: float = 5.0
    # ...and after this long without an answer the conversation goes to a person.
    rasa_outage_handoff_seconds: float = 120.0
    # Longest customer or agent message, in characters; longer ones are refused.
    max_message_chars: int = 2000
    # Largest socket.io or HTTP body the hub accepts, in bytes.
    max_body_bytes: int = 64 * 1024
    # Abuse limits on the widget socket (per hub process). Messages: a burst of
    # `widget_message_burst`, refilled at `widget_messages_per_minute`, per connection and per session.
    widget_messages_per_minute: int = 30
    widget_message_burst: int = 10
    # Open widget connections from one IP address, and new chat sessions one address may start per hour.
    widget_connections_per_ip: int = 20
    widget_sessions_per_ip_per_hour: int = 60
    # History: at most this many messages per request, and this many requests per connection per minute.
    widget_history_limit: int = 200
    widget_history_requests_per_minute: int = 10
    # Behind a reverse proxy: take the client's address from the proxy's X-Forwarded-For.
    widget_trust_forwarded_for: bool = False
    console_session_hours: float = 8.0
    # Password of the demo agents that `bot db seed` creates.
    demo_agent_password: str = "northwind-demo"
    # Redis URL for fanning socket messages out between several hub processes; empty: one process.
    redis_url: str = ""
    # Outgoing mail. With no SMTP host, mail is written to `mail_outbox_dir` as .eml files.
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_username: str = ""
    smtp_password: str = ""
    # "none", "starttls" or "tls" (implicit TLS, usually port 465).
    smtp_security: str = "none"
    smtp_timeout_seconds: float = 30.0
    # The From address of everything the product sends; the support address when empty.
    mail_from: str = ""
    mail_outbox_dir: str = str(PROJECT_ROOT / "var" / "outbox")
    # The support inbox. Email is off unless an IMAP host is set.
    imap_host: str = ""
    imap_port: int = 993
    imap_username: str = ""
    imap_password: str = ""
    # "tls" (implicit, port 993) or "none" (plain, for a server on the same host).
    imap_security: str = "tls"
    imap_folder: str = "INBOX"
    # How often the inbox is checked when the server has no IDLE, and the outbox retried.
    email_poll_seconds: float = 5.0
    # Most automatic replies one address gets in 24 hours (RFC 3834 loop safety).
    email_auto_reply_cap: int = 5
    # This many soft bounces of one address within 30 days count as a hard bounce (undeliverable).
    email_soft_bounces_until_hard: int = 3
    verification_max_attempts: int = 3
    max_extension_days: int = 14
    secret_hash_iterations: int = 120_000
    # Fixes "today" for demos and tests; None means the real date.
    today: Optional[dt.date] = None
    escalation: EscalationRules = EscalationRules()
    # --- Dunning (`bot dunning run`) ---
    # The reminder policy (YAML); empty means the default shipped in bot/dunning/policy.yml.
    dunning_policy: str = ""
    # A claim still in flight after this long belongs to a run that died between acting and
    # recording; the next run records it (never repeats it). Longer than one SMTP send can take.
    dunning_claim_lease_seconds: float = 900.0
    # Emails one run hands to the SMTP server at the same time.
    dunning_send_concurrency: int = 4
    test_postgres_url: str = "postgresql://postgres@127.0.0.1:5432/postgres"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def sender_address(self) -> str:
        return self.mail_from or self.support_email

    @property
    def email_enabled(self) -> bool:
        return bool(self.imap_host)

    @property
    def own_addresses(self) -> Tuple[str, ...]:
        """Addresses that are us: mail from them never gets an automatic reply."""
        found = {email.utils.parseaddr(a)[1].lower() for a in (self.sender_address, self.support_email, self.imap_username)}
        return tuple(sorted(a for a in found if "@" in a))

    @property
    def hub_url(self) -> str:
        return self.public_url or f"http://localhost:{self.hub_port}"


def _default_database_url() -> str:
    return f"sqlite+aiosqlite:///{PROJECT_ROOT / 'var' / 'bot.db'}"


# name -> (parser, Settings field, nested in EscalationRules?)
_FIELDS: Dict[str, Tuple[Callable[[str], Any], str, bool]] = {
    "DATABASE_URL": (str, "database_url", False),
    "COMPANY_NAME": (str, "company_name", False),
    "SUPPORT_EMAIL": (str, "support_email", False),
    "SUPPORT_PHONE": (str, "support_phone", False),
    "GAS_EMERGENCY_PHONE": (str, "gas_emergency_phone", False),
    "PAYMENT_LINK_BASE": (str, "payment_link_base", False),
    "CARD_UPDATE_LINK": (str, "card_update_link", False),
    "TIMEZONE": (_parse_timezone, "timezone", False),
    "BUSINESS_HOURS": (_parse_hours, "business_hours", False),
    "BUSINESS_DAYS": (_parse_weekdays, "business_days", False),
    "RASA_PORT": (_positive_int, "rasa_port", False),
    "ACTION_PORT": (_positive_int, "action_port", False),
    "RASA_URL": (str, "rasa_url", False),
    "RASA_HOST": (str, "rasa_host", False),
    "ACTION_HOST": (str, "action_host", False),
    "ACTION_URL": (_parse_url, "action_url", False),
    "RASA_TOKEN": (_parse_token, "rasa_token", False),
    "ACTION_TOKEN": (_parse_token, "action_token", False),
    "INTERNAL_TOKEN_FILE": (str, "internal_token_file", False),
    "RESTART_BACKOFF_MAX_SECONDS": (_positive_float, "restart_backoff_max_seconds", False),
    "HUB_HOST": (str, "hub_host", False),
    "HUB_PORT": (_positive_int, "hub_port", False),
    "PUBLIC_URL": (_parse_url, "public_url", False),
    "RASA_TIMEOUT_SECONDS": (_positive_float, "rasa_timeout_seconds", False),
    "RASA_RETRY_SECONDS": (_positive_float, "rasa_retry_seconds", False),
    "RASA_OUTAGE_HANDOFF_SECONDS": (_positive_float, "rasa_outage_handoff_seconds", False),
    "MAX_MESSAGE_CHARS": (_positive_int, "max_message_chars", False),
    "MAX_BODY_BYTES": (_positive_int, "max_body_bytes", False),
    "WIDGET_MESSAGES_PER_MINUTE": (_positive_int, "widget_messages_per_minute", False),
    "WIDGET_MESSAGE_BURST": (_positive_int, "widget_message_burst", False),
    "WIDGET_CONNECTIONS_PER_IP": (_positive_int, "widget_connections_per_ip", False),
    "WIDGET_SESSIONS_PER_IP_PER_HOUR": (_positive_int, "widget_sessions_per_ip_per_hour", False),
    "WIDGET_HISTORY_LIMIT": (_positive_int, "widget_history_limit", False),
    "WIDGET_HISTORY_REQUESTS_PER_MINUTE": (_positive_int, "widget_history_requests_per_minute", False),
    "WIDGET_TRUST_FORWARDED_FOR": (_parse_bool, "widget_trust_forwarded_for", False),
    "CONSOLE_SESSION_HOURS": (_positive_float, "console_session_hours", False),
    "DEMO_AGENT_PASSWORD": (str, "demo_agent_password", False),
    "REDIS_URL": (str, "redis_url", False),
    "SMTP_HOST": (str, "smtp_host", False),
    "SMTP_PORT": (_positive_int, "smtp_port", False),
    "SMTP_USERNAME": (str, "smtp_username", False),
    "SMTP_PASSWORD": (str, "smtp_password", False),
    "SMTP_SECURITY": (_parse_smtp_security, "smtp_security", False),
    "SMTP_TIMEOUT_SECONDS": (_positive_float, "smtp_timeout_seconds", False),
    "MAIL_FROM": (_parse_address, "mail_from", False),
    "MAIL_OUTBOX_DIR": (str, "mail_outbox_dir", False),
    "IMAP_HOST": (str, "imap_host", False),
    "IMAP_PORT": (_positive_int, "imap_port", False),
    "IMAP_USERNAME": (str, "imap_username", False),
    "IMAP_PASSWORD": (str, "imap_password", False),
    "IMAP_SECURITY": (_parse_imap_security, "imap_security", False),
    "IMAP_FOLDER": (str, "imap_folder", False),
    "EMAIL_POLL_SECONDS": (_positive_float, "email_poll_seconds", False),
    "EMAIL_AUTO_REPLY_CAP": (_positive_int, "email_auto_reply_cap", False),
    "EMAIL_SOFT_BOUNCES_UNTIL_HARD": (_positive_int, "email_soft_bounces_until_hard", False),
    "VERIFICATION_MAX_ATTEMPTS": (_positive_int, "verification_max_attempts", False),
    "MAX_EXTENSION_DAYS": (_positive_int, "max_extension_days", False),
    "SECRET_HASH_ITERATIONS": (_positive_int, "secret_hash_iterations", False),
    "TODAY": (dt.date.fromisoformat, "today", False),
    "TEST_POSTGRES_URL": (str, "test_postgres_url", False),
    # Dunning
    "DUNNING_POLICY": (str, "dunning_policy", False),
    "DUNNING_CLAIM_LEASE_SECONDS": (_positive_float, "dunning_claim_lease_seconds", False),
    "DUNNING_SEND_CONCURRENCY": (_positive_int, "dunning_send_concurrency", False),
    "ESCALATION_STRONG_NEGATIVE": (_probability, "strong_negative", True),
    "ESCALATION_NEGATIVE": (_probability, "negative", True),
    "ESCALATION_TREND_WINDOW": (_positive_int, "trend_window", True),
    "ESCALATION_TREND_NEGATIVE_COUNT": (_positive_int, "trend_negative_count", True),
    "ESCALATION_FALLBACK_LIMIT": (_positive_int, "fallback_limit", True),
    "ESCALATION_REPEAT_LIMIT": (_positive_int, "repeat_limit", True),
    "ESCALATION_REPEAT_WINDOW": (_positive_int, "repeat_window", True),
    "ESCALATION_TOPIC_INTENTS": (_parse_list, "topic_intents", True),
    "ESCALATION_LEGAL_KEYWORDS": (_parse_list, "legal_keywords", True),
}


def load_settings(environ: Mapping[str, str]) -> Settings:
    """Builds settings from a mapping of environment variables."""
    top: Dict[str, Any] = {"database_url": _default_database_url()}
    nested: Dict[str, Any] = {}
    for name, (parse, field, is_nested) in _FIELDS.items():
        raw = environ.get(f"BOT_{name}")
        if raw is None or raw == "":
            continue
        try:
            value = parse(raw)
        except ValueError as exc:
            raise ConfigError(f"BOT_{name}={raw!r} is invalid: {exc}") from exc
        (nested if is_nested else top)[field] = value
    # Rasa's URL follows its port unless set on its own; so does the action server's.
    top.setdefault("rasa_url", f"http://127.0.0.1:{top.get('rasa_port', Settings.rasa_port)}")
    top.setdefault("action_url", f"http://127.0.0.1:{top.get('action_port', Settings.action_port)}/webhook")
    rules = EscalationRules(**nested)
    if rules.trend_negative_count > rules.trend_window:
        raise ConfigError(
            "BOT_ESCALATION_TREND_NEGATIVE_COUNT cannot exceed BOT_ESCALATION_TREND_WINDOW"
        )
    return Settings(escalation=rules, **top)


def with_internal_tokens(settings: Settings) -> Settings:
    """Fills in the internal tokens that were not configured from the token file,
    creating it (owner-only) with new random tokens the first time: every process of
    one installation, and `bot chat` in another terminal, then agree without setup."""
    if settings.rasa_token and settings.action_token:
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
    return dataclasses.replace(settings, rasa_token=settings.rasa_token or stored["rasa_token"],
                               action_token=settings.action_token or stored["action_token"])


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
