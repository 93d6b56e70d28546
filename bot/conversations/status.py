"""The conversation status machine.

    bot --escalate--> pending --take--> assigned --hand_back--> bot
     \\______________________ resolve ______________________/--> resolved

Pure: which action is allowed from which status, and where it leads.
"""

from __future__ import annotations

from typing import Dict, Tuple

TRANSITIONS: Dict[Tuple[str, str], str] = {
    ("bot", "escalate"): "pending",
    ("pending", "take"): "assigned",
    ("assigned", "hand_back"): "bot",
    ("pending", "hand_back"): "bot",
    ("bot", "resolve"): "resolved",
    ("pending", "resolve"): "resolved",
    ("assigned", "resolve"): "resolved",
}

# Statuses in which the bot stays silent and people answer.
WITH_PEOPLE = ("pending", "assigned")


class InvalidTransition(ValueError):
    def __init__(self, status: str, action: str) -> None:
        super().__init__(f"cannot {action.replace('_', ' ')} a conversation that is {status}")
        self.status = status
        self.action = action


def next_status(status: str, action: str) -> str:
    try:
        return TRANSITIONS[(status, action)]
    except KeyError:
        raise InvalidTransition(status, action) from None


def sources(action: str) -> Tuple[str, ...]:
    """The statuses from which ``action`` is allowed (for compare-and-set updates)."""
    return tuple(status for (status, name) in TRANSITIONS if name == action)


def target(action: str) -> str:
    """Where ``action`` leads (the same from every status it is allowed in)."""
    (destination,) = {to for (_, name), to in TRANSITIONS.items() if name == action}
    return destination
