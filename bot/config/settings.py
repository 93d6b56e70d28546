"""Every setting, declared once: its field, type, parser and default (``setting``).

Settings come in groups (hub, widget, rasa, action, smtp, imap, email, dunning, escalation,
report): the environment variable is BOT_ + the group's prefix + the field's name in capitals
(``settings.smtp.host`` is BOT_SMTP_HOST; the few at the top have no prefix);
:mod:`bot.config.loading` reads them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import email.utils
from typing import Optional, Tuple
from zoneinfo import ZoneInfo

from bot.config.declare import PROJECT_ROOT, group, setting
from bot.config.escalation_rules import EscalationRules
from bot.config.parsers import (
    parse_address,
    parse_bool,
    parse_hours,
    parse_imap_security,
    parse_smtp_security,
    parse_store_url,
    parse_timezone,
    parse_token,
    parse_url,
    parse_url_list,
    parse_weekdays,
    positive_float,
    positive_int,
)


@dataclasses.dataclass(frozen=True)
class HubSettings:
    """The hub: the front door for the widget, the inbox and the agent console (BOT_HUB_*)."""

    host: str = setting(str, "0.0.0.0")
    port: int = setting(positive_int, 8000)
    # What the hub prints and puts in links; derived from the port when empty.
    public_url: str = setting(parse_url, "")
    # Longest customer or agent message, in characters; longer ones are refused.
    max_message_chars: int = setting(positive_int, 2000)
    # Largest socket.io or HTTP body the hub accepts, in bytes.
    max_body_bytes: int = setting(positive_int, 64 * 1024)
    console_session_hours: float = setting(positive_float, 8.0)
    # Redis URL for fanning socket messages out between several hub processes; empty: one process.
    redis_url: str = setting(str, "")
    # Bearer token for the hub's /metrics from other hosts; loopback needs none. Empty: loopback only.
    metrics_token: str = setting(parse_token, "")


@dataclasses.dataclass(frozen=True)
class WidgetLimits:
    """Abuse limits on the widget socket, per hub process (BOT_WIDGET_*)."""

    # Messages: a burst of `message_burst`, refilled at `messages_per_minute`, per connection and per session.
    messages_per_minute: int = setting(positive_int, 30)
    message_burst: int = setting(positive_int, 10)
    # Open connections from one IP address, and new chat sessions one address may start per hour.
    connections_per_ip: int = setting(positive_int, 20)
    sessions_per_ip_per_hour: int = setting(positive_int, 60)
    # History: at most this many messages per request, and this many requests per connection per minute.
    history_limit: int = setting(positive_int, 200)
    history_requests_per_minute: int = setting(positive_int, 10)
    # Behind a reverse proxy: take the client's address from the proxy's X-Forwarded-For.
    trust_forwarded_for: bool = setting(parse_bool, False)


@dataclasses.dataclass(frozen=True)
class RasaSettings:
    """The Rasa server (BOT_RASA_*): internal, on loopback unless a multi-host deployment
    says otherwise, and refusing calls without its token."""

    port: int = setting(positive_int, 5005)
    host: str = setting(str, "127.0.0.1")
    # Where the hub calls Rasa; derived from the port when empty.
    url: str = setting(parse_url, "")
    # Several Rasa servers for the hub (comma-separated), sharing the tracker and lock stores below:
    # each conversation stays on one while it is up and moves to the next when it is not. Empty: `url`.
    urls: Tuple[str, ...] = setting(parse_url_list, ())
    # Rasa's tracker store: a postgresql:// URL (user, password, host, port, database) shared by
    # every Rasa server; empty: the SQLite file the endpoints file names.
    tracker_store_url: str = setting(parse_store_url("postgresql"), "")
    # Rasa's lock store: a redis:// URL (the database number as its path), so that two Rasa servers
    # never process one conversation at once; empty: in memory (one Rasa server only).
    lock_store_url: str = setting(parse_store_url("redis", "rediss"), "")
    # The hub's (and `bot chat`'s) secret for Rasa; when unset, generated once and kept in
    # `internal_token_file`, readable only by its owner.
    token: str = setting(parse_token, "")
    # How long the hub waits for Rasa to answer one message.
    timeout_seconds: float = setting(positive_float, 30.0)
    # While Rasa is unreachable, kept messages are retried this often...
    retry_seconds: float = setting(positive_float, 5.0)
    # ...and after this long without an answer the conversation goes to a person.
    outage_handoff_seconds: float = setting(positive_float, 120.0)


@dataclasses.dataclass(frozen=True)
class ActionServerSettings:
    """The action server (BOT_ACTION_*): internal like Rasa."""

    port: int = setting(positive_int, 5055)
    host: str = setting(str, "127.0.0.1")
    # Where the Rasa server calls the action server; derived from the port when empty.
    url: str = setting(parse_url, "")
    # Rasa's secret for the action server (generated and kept like Rasa's when unset).
    token: str = setting(parse_token, "")


@dataclasses.dataclass(frozen=True)
class SmtpSettings:
    """Outgoing mail (BOT_SMTP_*). With no host, mail is written to `email.outbox_dir` as .eml files."""

    host: str = setting(str, "")
    port: int = setting(positive_int, 25)
    username: str = setting(str, "")
    password: str = setting(str, "")
    # "none", "starttls" or "tls" (implicit TLS, usually port 465).
    security: str = setting(parse_smtp_security, "none")
    timeout_seconds: float = setting(positive_float, 30.0)


@dataclasses.dataclass(frozen=True)
class ImapSettings:
    """The support inbox (BOT_IMAP_*). Email is off unless a host is set."""

    host: str = setting(str, "")
    port: int = setting(positive_int, 993)
    username: str = setting(str, "")
    password: str = setting(str, "")
    # "tls" (implicit, port 993) or "none" (plain, for a server on the same host).
    security: str = setting(parse_imap_security, "tls")
    folder: str = setting(str, "INBOX")


@dataclasses.dataclass(frozen=True)
class EmailSettings:
    """The email channel (BOT_EMAIL_*)."""

    # The From address of everything the product sends; the support address when empty.
    from_address: str = setting(parse_address, "")
    # Where mail goes when no SMTP host is set (one .eml file per message).
    outbox_dir: str = setting(str, str(PROJECT_ROOT / "var" / "outbox"))
    # How often the inbox is checked when the server has no IDLE, and the outbox retried.
    poll_seconds: float = setting(positive_float, 5.0)
    # Most automatic replies one address gets in 24 hours (RFC 3834 loop safety).
    auto_reply_cap: int = setting(positive_int, 5)
    # This many soft bounces of one address within 30 days count as a hard bounce (undeliverable).
    soft_bounces_until_hard: int = setting(positive_int, 3)


@dataclasses.dataclass(frozen=True)
class DunningSettings:
    """Payment reminders, `bot dunning run` (BOT_DUNNING_*)."""

    # The reminder policy (YAML); empty means the default shipped in bot/dunning/policy.yml.
    policy: str = setting(str, "")
    # A claim still in flight after this long belongs to a run that died between acting and
    # recording; the next run records it (never repeats it). Longer than one SMTP send can take.
    claim_lease_seconds: float = setting(positive_float, 900.0)
    # Emails one run hands to the SMTP server at the same time.
    send_concurrency: int = setting(positive_int, 4)


@dataclasses.dataclass(frozen=True)
class ReportSettings:
    """The console's Reports page and /api/reports (BOT_REPORT_*; definitions in bot/analytics/metrics.py)."""

    # A customer who comes back within this many days reopened the conversation (containment, FCR).
    reopen_days: int = setting(positive_int, 7)
    # A payment this many days or fewer after a reminder counts as recovered by that reminder's stage.
    recovery_days: int = setting(positive_int, 14)
    # A handoff no agent took that waited longer than this was abandoned.
    abandon_seconds: float = setting(positive_float, 600.0)


@dataclasses.dataclass(frozen=True)
class Settings:
    """The company, the database and the account rules at the top; everything else in groups."""

    database_url: str = setting(str, f"sqlite+aiosqlite:///{PROJECT_ROOT / 'var' / 'bot.db'}")
    company_name: str = setting(str, "Northwind Energy")
    support_email: str = setting(str, "support@northwind.example")
    support_phone: str = setting(str, "+1 800 555 0199")
    # Said at once to a customer who smells gas (with 911), before a person takes over.
    gas_emergency_phone: str = setting(str, "+1 800 555 0111")
    payment_link_base: str = setting(str, "https://pay.northwind.example/invoice/")
    card_update_link: str = setting(str, "https://pay.northwind.example/account/card")
    timezone: str = setting(parse_timezone, "America/New_York")
    business_hours: Tuple[dt.time, dt.time] = setting(parse_hours, (dt.time(9), dt.time(17)))
    business_days: Tuple[int, ...] = setting(parse_weekdays, (1, 2, 3, 4, 5))
    verification_max_attempts: int = setting(positive_int, 3)
    max_extension_days: int = setting(positive_int, 14)
    secret_hash_iterations: int = setting(positive_int, 120_000)
    # Fixes "today" for demos and tests; None means the real date.
    today: Optional[dt.date] = setting(dt.date.fromisoformat, None)
    # Where the internal tokens are kept when BOT_RASA_TOKEN / BOT_ACTION_TOKEN are unset.
    internal_token_file: str = setting(str, str(PROJECT_ROOT / "var" / "internal-tokens.json"))
    # `bot start` restarts a process that dies, waiting 1, 2, 4 ... seconds up to this long.
    restart_backoff_max_seconds: float = setting(positive_float, 30.0)
    # Password of the demo agents that `bot db seed` creates.
    demo_agent_password: str = setting(str, "northwind-demo")
    hub: HubSettings = group(HubSettings, "HUB_")
    widget: WidgetLimits = group(WidgetLimits, "WIDGET_")
    rasa: RasaSettings = group(RasaSettings, "RASA_")
    action: ActionServerSettings = group(ActionServerSettings, "ACTION_")
    smtp: SmtpSettings = group(SmtpSettings, "SMTP_")
    imap: ImapSettings = group(ImapSettings, "IMAP_")
    email: EmailSettings = group(EmailSettings, "EMAIL_")
    dunning: DunningSettings = group(DunningSettings, "DUNNING_")
    escalation: EscalationRules = group(EscalationRules, "ESCALATION_")
    report: ReportSettings = group(ReportSettings, "REPORT_")

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def sender_address(self) -> str:
        return self.email.from_address or self.support_email

    @property
    def email_enabled(self) -> bool:
        return bool(self.imap.host)

    @property
    def own_addresses(self) -> Tuple[str, ...]:
        """Addresses that are us: mail from them never gets an automatic reply."""
        found = {
            email.utils.parseaddr(a)[1].lower() for a in (self.sender_address, self.support_email, self.imap.username)
        }
        return tuple(sorted(a for a in found if "@" in a))

    @property
    def rasa_urls(self) -> Tuple[str, ...]:
        """Every Rasa server the hub calls, in the configured order."""
        return self.rasa.urls or (self.rasa.url,)

    @property
    def hub_url(self) -> str:
        return self.hub.public_url or f"http://localhost:{self.hub.port}"


# Variables renamed when the settings were grouped: naming the new one beats ignoring the old.
RENAMED = {
    "BOT_PUBLIC_URL": "BOT_HUB_PUBLIC_URL",
    "BOT_MAX_MESSAGE_CHARS": "BOT_HUB_MAX_MESSAGE_CHARS",
    "BOT_MAX_BODY_BYTES": "BOT_HUB_MAX_BODY_BYTES",
    "BOT_CONSOLE_SESSION_HOURS": "BOT_HUB_CONSOLE_SESSION_HOURS",
    "BOT_REDIS_URL": "BOT_HUB_REDIS_URL",
    "BOT_METRICS_TOKEN": "BOT_HUB_METRICS_TOKEN",
    "BOT_MAIL_FROM": "BOT_EMAIL_FROM_ADDRESS",
    "BOT_MAIL_OUTBOX_DIR": "BOT_EMAIL_OUTBOX_DIR",
}
