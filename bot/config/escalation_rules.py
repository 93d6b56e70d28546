"""When a conversation goes to a person: the escalation rules (BOT_ESCALATION_*)."""

from __future__ import annotations

import dataclasses
from typing import Tuple

from bot.config.declare import setting
from bot.config.parsers import parse_list, positive_int, probability


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
