import dataclasses
import datetime as dt

import pytest

from bot import config
from bot.config import ConfigError, async_database_url, load_settings, sync_database_url


def test_defaults_run_on_embedded_parts():
    settings = load_settings({})
    assert settings.database_url.startswith("sqlite+aiosqlite:///")
    assert settings.database_url.endswith("var/bot.db")
    assert settings.verification_max_attempts == 3
    assert settings.escalation.fallback_limit == 2
    assert "request_human" in settings.escalation.topic_intents
    # a gas smell and a possibly stolen card always reach a person; "what can you do" never does
    assert {"gas_leak", "card_stolen"} <= set(settings.escalation.topic_intents)
    assert "what_can_you_do" not in settings.escalation.topic_intents
    assert settings.gas_emergency_phone
    assert load_settings({"BOT_GAS_EMERGENCY_PHONE": "+1 800 555 0123"}).gas_emergency_phone == "+1 800 555 0123"


def test_values_are_typed():
    settings = load_settings({
        "BOT_RASA_PORT": "6005", "BOT_TODAY": "2026-01-02", "BOT_BUSINESS_HOURS": "08:30-18:00",
        "BOT_BUSINESS_DAYS": "mon,tue", "BOT_ESCALATION_TOPIC_INTENTS": "request_human, cannot_pay",
        "BOT_ESCALATION_STRONG_NEGATIVE": "0.9",
    })
    assert settings.rasa.port == 6005
    assert settings.today == dt.date(2026, 1, 2)
    assert settings.business_hours == (dt.time(8, 30), dt.time(18))
    assert settings.business_days == (1, 2)
    assert settings.escalation.topic_intents == ("request_human", "cannot_pay")
    assert settings.escalation.strong_negative == 0.9


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("BOT_RASA_PORT", "abc", "BOT_RASA_PORT='abc' is invalid"),
        ("BOT_RASA_PORT", "0", "must be 1 or more"),
        ("BOT_TIMEZONE", "Mars/Base", "unknown time zone"),
        ("BOT_BUSINESS_HOURS", "17:00-09:00", "opening time must be before closing time"),
        ("BOT_BUSINESS_DAYS", "funday", "unknown weekday"),
        ("BOT_ESCALATION_NEGATIVE", "1.5", "between 0 and 1"),
        ("BOT_TODAY", "yesterday", "BOT_TODAY='yesterday' is invalid"),
        ("BOT_RASA_URLS", "http://127.0.0.1:5005,rasa-b:5005", "expected an http:// or https:// URL"),
        ("BOT_RASA_TRACKER_STORE_URL", "mysql://db/rasa", "expected a postgresql:// URL"),
        ("BOT_RASA_LOCK_STORE_URL", "redis://", "expected a redis:// or rediss:// URL with a host"),
    ],
)
def test_bad_values_fail_loudly_with_the_variable_name(name, value, message):
    with pytest.raises(ConfigError, match=message):
        load_settings({name: value})


def test_trend_count_cannot_exceed_window():
    with pytest.raises(ConfigError, match="TREND_NEGATIVE_COUNT"):
        load_settings({"BOT_ESCALATION_TREND_WINDOW": "2", "BOT_ESCALATION_TREND_NEGATIVE_COUNT": "3"})


def test_driver_urls():
    assert sync_database_url("sqlite+aiosqlite:////x.db") == "sqlite:////x.db"
    assert sync_database_url("postgresql+asyncpg://u@h/db") == "postgresql+psycopg2://u@h/db"
    assert async_database_url("postgresql://u@h/db") == "postgresql+asyncpg://u@h/db"
    assert async_database_url("sqlite:////x.db") == "sqlite+aiosqlite:////x.db"


def test_internal_services_are_private_by_default():
    settings = load_settings({})
    assert settings.rasa.host == "127.0.0.1" and settings.action.host == "127.0.0.1"
    assert settings.rasa.url == "http://127.0.0.1:5005"
    assert settings.action.url == "http://127.0.0.1:5055/webhook"
    moved = load_settings({"BOT_ACTION_PORT": "6055"})
    assert moved.action.url == "http://127.0.0.1:6055/webhook"


def test_tokens_must_be_long_enough():
    with pytest.raises(ConfigError, match="BOT_RASA_TOKEN.*at least 16 characters"):
        load_settings({"BOT_RASA_TOKEN": "short"})


def test_missing_tokens_are_made_once_and_kept_owner_only(tmp_path):
    import os
    import stat

    from bot.config import with_internal_tokens

    path = tmp_path / "var" / "tokens.json"
    settings = load_settings({"BOT_INTERNAL_TOKEN_FILE": str(path)})
    first = with_internal_tokens(settings)
    assert len(first.rasa.token) >= 32 and len(first.action.token) >= 32 and first.rasa.token != first.action.token
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    again = with_internal_tokens(settings)  # another process of the same installation
    assert (again.rasa.token, again.action.token) == (first.rasa.token, first.action.token)
    configured = with_internal_tokens(load_settings({"BOT_INTERNAL_TOKEN_FILE": str(path),
                                                     "BOT_RASA_TOKEN": "configured-token-123"}))
    assert configured.rasa.token == "configured-token-123" and configured.action.token == first.action.token
    path.write_text("{not json")
    with pytest.raises(ConfigError, match="cannot read the internal tokens"):
        with_internal_tokens(settings)


def test_each_setting_is_declared_once_and_named_after_its_group_and_field():
    top = [f for f in dataclasses.fields(config.Settings) if "parse" in f.metadata]
    groups = [f for f in dataclasses.fields(config.Settings) if "group" in f.metadata]
    expected = {f"BOT_{f.name.upper()}" for f in top}
    for group in groups:
        members = dataclasses.fields(group.default_factory)
        # Every member of a group is a setting (no nested groups, nothing declared elsewhere).
        assert all("parse" in f.metadata for f in members), group.name
        expected |= {f"BOT_{group.metadata['group']}{f.name.upper()}" for f in members}
    assert set(config.variables()) == expected
    assert len(config.variables()) == len(expected)  # no two settings share a variable
    # Every field of Settings is a setting or a group.
    assert len(top) + len(groups) == len(dataclasses.fields(config.Settings))
    assert {g.name for g in groups} == {
        "hub", "widget", "rasa", "action", "smtp", "imap", "email", "dunning", "escalation", "report",
    }


def test_a_grouped_setting_is_read_from_its_prefixed_variable():
    settings = load_settings({"BOT_SMTP_HOST": "mail.example", "BOT_HUB_PUBLIC_URL": "https://help.example",
                              "BOT_EMAIL_FROM_ADDRESS": "Billing <billing@example.com>", "BOT_WIDGET_HISTORY_LIMIT": "50"})
    assert settings.smtp.host == "mail.example" and settings.smtp.port == 25
    assert settings.hub_url == "https://help.example"
    assert settings.sender_address == "Billing <billing@example.com>"
    assert settings.widget.history_limit == 50 and settings.widget.message_burst == 10


@pytest.mark.parametrize("old, new", [("BOT_MAIL_FROM", "BOT_EMAIL_FROM_ADDRESS"), ("BOT_PUBLIC_URL", "BOT_HUB_PUBLIC_URL")])
def test_a_renamed_variable_is_refused_with_its_new_name(old, new):
    """An installation still setting the old name learns the new one instead of losing the setting."""
    with pytest.raises(ConfigError, match=f"{old} is now called {new}"):
        load_settings({old: "x"})


@pytest.mark.parametrize("variable", ["BOT_HUB_PORT", "BOT_ESCALATION_REPEAT_WINDOW", "BOT_EMAIL_POLL_SECONDS"])
def test_a_bad_value_names_its_variable(variable):
    with pytest.raises(config.ConfigError, match=variable):
        config.load_settings({variable: "not-a-number"})


def test_a_list_setting_reads_comma_separated_values():
    settings = config.load_settings({"BOT_ESCALATION_REPEAT_IGNORED_INTENTS": "greet, thanks"})
    assert settings.escalation.repeat_ignored_intents == ("greet", "thanks")


def test_several_rasa_servers_or_the_one_from_the_port():
    assert config.load_settings({"BOT_RASA_PORT": "5105"}).rasa_urls == ("http://127.0.0.1:5105",)
    settings = config.load_settings({"BOT_RASA_URLS": "http://10.0.0.5:5005/, http://10.0.0.6:5005"})
    assert settings.rasa_urls == ("http://10.0.0.5:5005", "http://10.0.0.6:5005")
