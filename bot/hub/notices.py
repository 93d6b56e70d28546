"""What the hub itself says to customers, in one place. Pure functions.

Plain, polite words that say what happens next and when (DESIGN.md, service principles).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Dict, List

from bot import business_hours
from bot.config import Settings

RATINGS: List[Dict[str, Any]] = [{"content_type": "text", "title": str(n), "payload": str(n)} for n in range(1, 6)]


def queue(position: int, now: dt.datetime, settings: Settings, agents_online: int, channel: str = "web") -> str:
    """Where the customer stands, and when a person will answer."""
    saved = (
        "you can leave this page and come back, your conversation is saved"
        if channel == "web"
        else "we'll reply to this email"
    )
    parts = [
        f"You're number {position} in the queue for a person from our team."
        if position > 1
        else "You're next in the queue for a person from our team."
    ]
    if not business_hours.is_open(now, settings):
        opening = business_hours.next_opening(now, settings)
        parts.append(
            "We're closed right now (our hours are "
            f"{business_hours.describe_hours(settings)}). Someone will answer "
            f"{business_hours.describe_opening(opening, now, settings)}; {saved}."
        )
    elif agents_online == 0:
        parts.append(
            "Everyone on our team is busy or away at the moment. Someone will answer as soon as "
            f"they're back, usually within 30 minutes; {saved}."
        )
    elif channel == "web":
        parts.append("Someone will be with you shortly. Anything you write now goes straight to them.")
    else:
        parts.append(
            "Someone will reply to this email shortly; anything you send in this thread goes straight to them."
        )
    return " ".join(parts)


def outage(settings: Settings) -> str:
    minutes = max(1, round(settings.rasa.outage_handoff_seconds / 60))
    return (
        "Sorry, I'm having trouble answering right now. Your message is saved and I'll "
        f"reply as soon as I can. If that takes more than {minutes} "
        f"minute{'s' if minutes != 1 else ''}, a person from our team will pick it up."
    )


NO_ANSWER = (
    "Sorry, something went wrong on our side and I couldn't answer that. "
    "Please try again in a moment; if it happens again, I'll pass you to a person from our team."
)
HANDED_BACK = "You're back with our virtual assistant. Just ask if you need anything else."
RATE_US = "This conversation is now closed. How would you rate the help you got, from 1 (poor) to 5 (excellent)?"
THANKS_FOR_RATING = "Thank you for your rating. Have a good day!"


def agent_joined(agent_name: str) -> str:
    return f"{agent_name} from our team has joined the chat."
