"""Data functions over agents and their console sessions (the caller owns the transaction)."""

from __future__ import annotations

import datetime as dt
from typing import List, Optional

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.conversations.models import Agent, AgentSession
from bot.security import hash_password, token_hash


async def create_agent(session: AsyncSession, email: str, name: str, password: str, now: dt.datetime) -> Agent:
    agent = Agent(
        email=email.strip().lower(),
        name=name.strip(),
        password_hash=hash_password(password),
        presence="offline",
        created_at=now,
    )
    session.add(agent)
    await session.flush()
    return agent


async def agent_by_email(session: AsyncSession, email: str) -> Optional[Agent]:
    result = await session.execute(select(Agent).where(Agent.email == email.strip().lower()))
    return result.scalar_one_or_none()


async def get_agent(session: AsyncSession, agent_id: int) -> Optional[Agent]:
    return await session.get(Agent, agent_id)


async def agent_count(session: AsyncSession) -> int:
    return int((await session.execute(select(func.count(Agent.id)))).scalar_one())


async def all_agents(session: AsyncSession) -> List[Agent]:
    return list((await session.execute(select(Agent).order_by(Agent.name))).scalars().all())


async def online_agent_count(session: AsyncSession) -> int:
    result = await session.execute(select(func.count(Agent.id)).where(Agent.presence == "online"))
    return int(result.scalar_one())


async def set_presence(session: AsyncSession, agent: Agent, presence: str, now: dt.datetime) -> None:
    agent.presence = presence
    agent.last_seen_at = now
    await session.flush()


async def start_session(
    session: AsyncSession, agent: Agent, token: str, now: dt.datetime, lifetime: dt.timedelta
) -> AgentSession:
    record = AgentSession(agent_id=agent.id, token_hash=token_hash(token), created_at=now, expires_at=now + lifetime)
    session.add(record)
    await session.flush()
    return record


async def agent_for_token(session: AsyncSession, token: str, now: dt.datetime) -> Optional[Agent]:
    """The signed-in agent for a session token, or None when unknown or expired."""
    result = await session.execute(
        select(Agent)
        .join(AgentSession, AgentSession.agent_id == Agent.id)
        .where(AgentSession.token_hash == token_hash(token), AgentSession.expires_at > now)
    )
    return result.scalar_one_or_none()


async def end_session(session: AsyncSession, token: str) -> None:
    await session.execute(delete(AgentSession).where(AgentSession.token_hash == token_hash(token)))


async def purge_expired_sessions(session: AsyncSession, now: dt.datetime) -> int:
    result = await session.execute(delete(AgentSession).where(AgentSession.expires_at <= now))
    return result.rowcount or 0
