"""The one place that reads configuration.

Every setting has a type and a default that runs the product on embedded parts
(SQLite, no external services), declared once in :mod:`bot.config.settings`. Values
come from environment variables named ``BOT_<NAME>``; a bad value fails loudly at
start-up with the variable's name, instead of surfacing later as a strange error.
Nothing else in the project reads the environment: other modules call
:func:`get_settings`.
"""

from bot.config.declare import PROJECT_ROOT
from bot.config.escalation_rules import EscalationRules
from bot.config.loading import (
    ConfigError,
    async_database_url,
    get_settings,
    load_settings,
    sync_database_url,
    today,
    variables,
    with_internal_tokens,
)
from bot.config.settings import Settings

__all__ = [
    "PROJECT_ROOT",
    "ConfigError",
    "EscalationRules",
    "Settings",
    "async_database_url",
    "get_settings",
    "load_settings",
    "sync_database_url",
    "today",
    "variables",
    "with_internal_tokens",
]
