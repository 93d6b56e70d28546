"""Demo agents and canned replies for the agent console."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from bot.conversations import agents
from bot.conversations import store as conversations

DEMO_AGENTS = (("alex@northwind.example", "Alex Morgan"), ("sam@northwind.example", "Sam Rivera"))

CANNED_REPLIES = (
    ("Greeting", "Hi, I'm here to help. I've read what you told our assistant, so you won't need to repeat it."),
    ("Frustration", "I can see this has been frustrating, and I'm sorry. Let's sort it out together now."),
    ("Payment plan", "We can split what's owed into smaller payments. Would weekly or monthly suit you better?"),
    ("Checking", "Thanks for waiting. I'm checking your account now and will be back in a minute or two."),
    (
        "Dispute received",
        "I've recorded your dispute. Reminders for this invoice are paused while we look into it,"
        " and we'll reply within 5 business days.",
    ),
    ("Closing", "Is there anything else I can help with today?"),
)


async def seed_hub(session: AsyncSession, password: str, now: dt.datetime) -> int:
    """Creates the demo agents and canned replies when there are no agents yet; returns agents created."""
    if await agents.agent_count(session):
        return 0
    for email, name in DEMO_AGENTS:
        await agents.create_agent(session, email, name, password, now)
    for title, text in CANNED_REPLIES:
        await conversations.add_canned_reply(session, title, text)
    return len(DEMO_AGENTS)
