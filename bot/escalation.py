"""The one place that decides when a conversation goes to a person, and why.

Pure logic over the customer's recent messages; every threshold comes from
``bot.config.EscalationRules``. Used by the Rasa policy
(``bot.policies.escalation_policy``) to trigger the handoff and by the handoff
action to record the reason, so the two never disagree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Optional, Sequence

from bot import handoff_reasons
from bot.config import EscalationRules

FALLBACK_INTENT = "nlu_fallback"

# Why a conversation was handed over, with its queue priority: bot.handoff_reasons (one table).
TOPIC_REASONS = {
    "request_human": "asked_for_person",
    "dispute_charge": "dispute",
    "cannot_pay": "hardship",
    "cancel_account": "cancellation",
    "charged_twice": "billing_error",
    "refund_request": "refund",
    "gas_leak": "gas_emergency",
    "card_stolen": "card_security",
}


@dataclass(frozen=True)
class Turn:
    """One customer message as the NLU read it."""

    text: str
    intent: Optional[str]
    sentiment: Optional[str] = None
    negative: float = 0.0  # probability that the message is negative


@dataclass(frozen=True)
class Decision:
    reason: str
    priority: int
    detail: str


def turn_from_parse_data(parse_data: Dict[str, Any]) -> Turn:
    """Builds a Turn from a parse result (as Rasa stores it on UserUttered)."""
    intent = (parse_data.get("intent") or {}).get("name")
    sentiment = parse_data.get("sentiment") or {}
    scores = sentiment.get("scores") or {}
    negative = float(
        scores.get("negative", sentiment.get("score", 0.0) if sentiment.get("label") == "negative" else 0.0)
    )
    return Turn(text=parse_data.get("text") or "", intent=intent, sentiment=sentiment.get("label"), negative=negative)


def turns_since_resume(events: Iterable[Dict[str, Any]]) -> List[Turn]:
    """Customer turns from serialised tracker events, after the last hand-back.

    Once a person has handed the conversation back, what was said before the
    handoff must not trigger a new one by itself.
    """
    turns: List[Turn] = []
    for event in events:
        kind = event.get("event")
        if kind in ("resume", "restart", "session_started"):
            turns = []
        elif kind == "user":
            turns.append(turn_from_parse_data({**(event.get("parse_data") or {}), "text": event.get("text")}))
    return turns


def _decision(reason: str, detail: str) -> Decision:
    return Decision(reason, handoff_reasons.priority(reason), detail)


def _mentions_legal_action(text: str, rules: EscalationRules) -> Optional[str]:
    lowered = text.lower()
    for keyword in rules.legal_keywords:
        if re.search(rf"\b{re.escape(keyword.lower())}\b", lowered):
            return keyword
    return None


def decide(
    turns: Sequence[Turn],
    rules: EscalationRules,
    *,
    verification_locked: bool = False,
) -> Optional[Decision]:
    """Whether the conversation should go to a person now, judged on the latest message."""
    if verification_locked:
        return _decision("verification_locked", "identity could not be verified")
    if not turns:
        return None
    last = turns[-1]

    keyword = _mentions_legal_action(last.text, rules)
    if keyword:
        return _decision("legal_threat", f"mentioned {keyword!r}")
    if last.intent in rules.topic_intents:
        reason = TOPIC_REASONS.get(last.intent, "asked_for_person")
        return _decision(reason, f"intent {last.intent}")
    if last.negative >= rules.strong_negative:
        return _decision("anger", f"strongly negative message ({last.negative:.2f})")

    window = turns[-rules.trend_window :]
    negatives = sum(1 for turn in window if turn.negative >= rules.negative)
    if last.negative >= rules.negative and negatives >= rules.trend_negative_count:
        return _decision("anger", f"{negatives} of the last {len(window)} messages negative")

    fallbacks = 0
    for turn in reversed(turns):
        if turn.intent != FALLBACK_INTENT:
            break
        fallbacks += 1
    if fallbacks >= rules.fallback_limit:
        return _decision("repeated_fallback", f"{fallbacks} messages in a row not understood")

    if last.intent and last.intent not in rules.repeat_ignored_intents:
        recent = turns[-rules.repeat_window :]
        repeats = sum(1 for turn in recent if turn.intent == last.intent)
        if repeats >= rules.repeat_limit:
            return _decision("repeated_request", f"asked {last.intent} {repeats} times")
    return None


def sentiment_trail(turns: Sequence[Turn], last: int = 6) -> List[Dict[str, Any]]:
    """The recent sentiment of the customer's messages, for the agent's summary."""
    return [
        {"text": turn.text[:200], "sentiment": turn.sentiment, "negative": round(turn.negative, 2)}
        for turn in turns[-last:]
    ]
