"""Why a conversation goes to a person: every handoff reason in one table, whoever
raises it (the bot's escalation rules, the hub, dunning, the email channel), with its
queue priority (1 = most urgent) and what the bot says when it hands over for it.

Pure; the Rasa server, the actions and the hub all read it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Optional


@dataclass(frozen=True)
class HandoffReason:
    name: str
    priority: int
    raised_by: str  # "bot" (bot.escalation and the handoff action), "hub", "dunning" or "email"
    # The response the handoff action says for it; None: the generic utter_handoff.
    response: Optional[str] = None


_ALL = (
    HandoffReason("gas_emergency", 1, "bot", "utter_handoff_gas_emergency"),
    HandoffReason("card_security", 1, "bot", "utter_handoff_card_stolen"),
    HandoffReason("legal_threat", 1, "bot", "utter_handoff_anger"),
    HandoffReason("anger", 1, "bot", "utter_handoff_anger"),
    HandoffReason("verification_locked", 1, "bot"),
    HandoffReason("hardship", 1, "bot", "utter_handoff_hardship"),
    HandoffReason("dispute", 2, "bot", "utter_handoff_dispute"),
    HandoffReason("asked_for_person", 2, "bot"),
    HandoffReason("repeated_fallback", 2, "bot"),
    HandoffReason("repeated_request", 2, "bot"),
    HandoffReason("billing_error", 2, "bot", "utter_handoff_billing"),
    HandoffReason("refund", 2, "bot", "utter_handoff_billing"),
    HandoffReason("cancellation", 3, "bot", "utter_handoff_cancellation"),
    HandoffReason("extension_beyond_policy", 3, "bot"),
    # The hub: Rasa stayed unreachable for longer than rasa_outage_handoff_seconds, or answered
    # nothing twice in a row (its action server is down: the handoff action can't run either).
    HandoffReason("bot_unavailable", 2, "hub"),
    # Dunning: a promise to pay was broken; an invoice reached the collections stage.
    HandoffReason("broken_promise", 3, "dunning"),
    HandoffReason("collections", 3, "dunning"),
    # Email: our mail to the customer bounced, or they reported it as spam.
    HandoffReason("email_bounced", 2, "email"),
    HandoffReason("email_complaint", 2, "email"),
)
REASONS: Dict[str, HandoffReason] = {reason.name: reason for reason in _ALL}
DEFAULT = "asked_for_person"
BOT_UNAVAILABLE = "bot_unavailable"
DEFAULT_PRIORITY = REASONS[DEFAULT].priority


def priority(name: str) -> int:
    """The queue priority of a reason; an unknown one (an older or newer version's) gets the default."""
    reason = REASONS.get(name)
    return reason.priority if reason else DEFAULT_PRIORITY


def response(name: str) -> str:
    reason = REASONS.get(name)
    return (reason.response if reason else None) or "utter_handoff"
