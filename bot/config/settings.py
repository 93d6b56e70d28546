"""Every setting, declared once: its field, type, parser and default (``setting``).

The environment variable is BOT_ + the field's name in capitals (BOT_ESCALATION_ + it for
the escalation rules); :mod:`bot.config.loading` reads them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import email.utils
from pathlib import Path
from typing import Any, Callable, Optional, Tuple
from zoneinfo import ZoneInfo

from bot.config.parsers import (
    parse_address,
    parse_bool,
    parse_hours,
    parse_imap_security,
    parse_list,
    parse_smtp_security,
    parse_timezone,
    parse_token,
    parse_url,
    parse_weekdays,
    positive_float,
    positive_int,
    probability,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent


def setting(parse: Callable[[str], Any], default: Any) -> Any:
    """Declares a setting once: its parser and default. The variable is BOT_ + the field's
    name in capitals (BOT_ESCALATION_ + it for the escalation rules)."""
    return dataclasses.field(default=default, metadata={"parse": parse})


@dataclasses.dataclass(frozen=True)
class EscalationRules:
    """When a conversation goes to a person (read by bot.escalation)."""

    # One message whose negative probability is at least this is "strongly negative".
    strong_negative: float = setting(probability, 0.85)
    # A run of negative messages: this many of the last `trend_window` messages.
    trend_window: int = setting(positive_int, 4)
    trend_negative_count: int = setting(positive_int, 3)
    # A message counts as negative in the trend when its negative probability is at least this.
    negative: float = setting(probability, 0.5)
    # Consecutive low-confidence (nlu_fallback) messages before a person takes over.
    fallback_limit: int = setting(positive_int, 2)
    # The same request this many times within the last `repeat_window` messages.
    repeat_limit: int = setting(positive_int, 3)
    repeat_window: int = setting(positive_int, 6)
    # Intents that always need a person, mapped to the reason recorded (bot.escalation.TOPIC_REASONS).
    # A gas smell gets the emergency number and a person; a possibly stolen card gets advice to block
    # it and a person. what_can_you_do must never be here: it answers what the bot can do.
    topic_intents: Tuple[str, ...] = setting(
        parse_list,
        (
            "gas_leak",
            "card_stolen",
            "request_human",
            "dispute_charge",
            "cannot_pay",
            "cancel_account",
            "charged_twice",
            "refund_request",
        ),
    )
    # Words that mark a legal threat, whatever the intent.
    legal_keywords: Tuple[str, ...] = setting(
        parse_list,
        (
            "lawyer",
            "attorney",
            "solicitor",
            "sue",
            "suing",
            "lawsuit",
            "court",
            "legal action",
            "ombudsman",
        ),
    )
    # Intents that do not count as "asking the same thing again".
    repeat_ignored_intents: Tuple[str, ...] = setting(
        parse_list,
        (
            "greet",
            "goodbye",
            "thanks",
            "affirm",
            "deny",
            "what_can_you_do",
            "provide_identifier",
            "nlu_fallback",
        ),
    )


@dataclasses.dataclass(frozen=True)
class Settings:
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
    rasa_port: int = setting(positive_int, 5005)
    action_port: int = setting(positive_int, 5055)
    rasa_url: str = setting(str, "http://127.0.0.1:5005")
    # Rasa and the action server are internal: they listen on loopback unless a
    # multi-host deployment says otherwise, and refuse calls without their token.
    rasa_host: str = setting(str, "127.0.0.1")
    action_host: str = setting(str, "127.0.0.1")
    # Where the Rasa server calls the action server; derived from action_port when empty.
    action_url: str = setting(parse_url, "")
    # Shared secrets: the hub (and `bot chat`) to Rasa, Rasa to the action server. When unset,
    # each is generated once and kept in `internal_token_file`, readable only by its owner.
    rasa_token: str = setting(parse_token, "")
    action_token: str = setting(parse_token, "")
    internal_token_file: str = setting(str, str(PROJECT_ROOT / "var" / "internal-tokens.json"))
    # `bot start` restarts a process that dies, waiting 1, 2, 4 ... seconds up to this long.
    restart_backoff_max_seconds: float = setting(positive_float, 30.0)
    # The hub: the front door for the widget and the agent console.
    hub_host: str = setting(str, "0.0.0.0")
    hub_port: int = setting(positive_int, 8000)
    # What the hub prints and puts in links; derived from hub_port when empty.
    public_url: str = setting(parse_url, "")
    # How long the hub waits for Rasa to answer one message.
    rasa_timeout_seconds: float = setting(positive_float, 30.0)
    # While Rasa is unreachable, kept messages are retried this often...
    rasa_retry_seconds: float = setting(positive_float, 5.0)
    # ...and after this long without an answer the conversation goes to a person.
    rasa_outage_handoff_seconds: float = setting(positive_float, 120.0)
    # Longest customer or agent message, in characters; longer ones are refused.
    max_message_chars: int = setting(positive_int, 2000)
    # Largest socket.io or HTTP body the hub accepts, in bytes.
    max_body_bytes: int = setting(positive_int, 64 * 1024)
    # Abuse limits on the widget socket (per hub process). Messages: a burst of
    # `widget_message_burst`, refilled at `widget_messages_per_minute`, per connection and per session.
    widget_messages_per_minute: int = setting(positive_int, 30)
    widget_message_burst: int = setting(positive_int, 10)
    # Open widget connections from one IP address, and new chat sessions one address may start per hour.
    widget_connections_per_ip: int = setting(positive_int, 20)
    widget_sessions_per_ip_per_hour: int = setting(positive_int, 60)
    # History: at most this many messages per request, and this many requests per connection per minute.
    widget_history_limit: int = setting(positive_int, 200)
    widget_history_requests_per_minute: int = setting(positive_int, 10)
    # Behind a reverse proxy: take the client's address from the proxy's X-Forwarded-For.
    widget_trust_forwarded_for: bool = setting(parse_bool, False)
    console_session_hours: float = setting(positive_float, 8.0)
    # Password of the demo agents that `bot db seed` creates.
    demo_agent_password: str = setting(str, "northwind-demo")
    # Redis URL for fanning socket messages out between several hub processes; empty: one process.
    redis_url: str = setting(str, "")
    # Outgoing mail. With no SMTP host, mail is written to `mail_outbox_dir` as .eml files.
    smtp_host: str = setting(str, "")
    smtp_port: int = setting(positive_int, 25)
    smtp_username: str = setting(str, "")
    smtp_password: str = setting(str, "")
    # "none", "starttls" or "tls" (implicit TLS, usually port 465).
    smtp_security: str = setting(parse_smtp_security, "none")
    smtp_timeout_seconds: float = setting(positive_float, 30.0)
    # The From address of everything the product sends; the support address when empty.
    mail_from: str = setting(parse_address, "")
    mail_outbox_dir: str = setting(str, str(PROJECT_ROOT / "var" / "outbox"))
    # The support inbox. Email is off unless an IMAP host is set.
    imap_host: str = setting(str, "")
    imap_port: int = setting(positive_int, 993)
    imap_username: str = setting(str, "")
    imap_password: str = setting(str, "")
    # "tls" (implicit, port 993) or "none" (plain, for a server on the same host).
    imap_security: str = setting(parse_imap_security, "tls")
    imap_folder: str = setting(str, "INBOX")
    # How often the inbox is checked when the server has no IDLE, and the outbox retried.
    email_poll_seconds: float = setting(positive_float, 5.0)
    # Most automatic replies one address gets in 24 hours (RFC 3834 loop safety).
    email_auto_reply_cap: int = setting(positive_int, 5)
    # This many soft bounces of one address within 30 days count as a hard bounce (undeliverable).
    email_soft_bounces_until_hard: int = setting(positive_int, 3)
    verification_max_attempts: int = setting(positive_int, 3)
    max_extension_days: int = setting(positive_int, 14)
    secret_hash_iterations: int = setting(positive_int, 120_000)
    # Fixes "today" for demos and tests; None means the real date.
    today: Optional[dt.date] = setting(dt.date.fromisoformat, None)
    escalation: EscalationRules = EscalationRules()
    # --- Dunning (`bot dunning run`) ---
    # The reminder policy (YAML); empty means the default shipped in bot/dunning/policy.yml.
    dunning_policy: str = setting(str, "")
    # A claim still in flight after this long belongs to a run that died between acting and
    # recording; the next run records it (never repeats it). Longer than one SMTP send can take.
    dunning_claim_lease_seconds: float = setting(positive_float, 900.0)
    # Emails one run hands to the SMTP server at the same time.
    dunning_send_concurrency: int = setting(positive_int, 4)
    # --- Reports (the console's Reports page, /api/reports; definitions in bot/analytics/metrics.py) ---
    # A customer who comes back within this many days reopened the conversation (containment, FCR).
    report_reopen_days: int = setting(positive_int, 7)
    # A payment this many days or fewer after a reminder counts as recovered by that reminder's stage.
    report_recovery_days: int = setting(positive_int, 14)
    # A handoff no agent took that waited longer than this was abandoned.
    report_abandon_seconds: float = setting(positive_float, 600.0)
    # Bearer token for the hub's /metrics from other hosts; loopback needs none. Empty: loopback only.
    metrics_token: str = setting(parse_token, "")

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
        found = {
            email.utils.parseaddr(a)[1].lower() for a in (self.sender_address, self.support_email, self.imap_username)
        }
        return tuple(sorted(a for a in found if "@" in a))

    @property
    def hub_url(self) -> str:
        return self.public_url or f"http://localhost:{self.hub_port}"
