"""Filter: notes why a message must get no automatic reply (``loop_safety``: RFC 3834 signs,
vacation replies, list mail, challenge-response, no usable sender). It is still threaded and
kept for agents; ``route`` holds it instead of answering."""

from __future__ import annotations

from typing import Optional

from bot.email import loop_safety
from bot.email.inbound.arrival import Arrival, Outcome


async def run(arrival: Arrival, session) -> Optional[Outcome]:
    arrival.automatic_reason = loop_safety.automatic_reason(arrival.mail, arrival.settings.own_addresses)
    return None
