"""Data functions for the email channel (the caller owns the transaction)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Dict, List, Optional, Sequence

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.accounts.models import Customer
from bot.conversations.models import Conversation, Message
from bot.email.models import BouncedAddress, EmailThread, InboundEmail, OutboundEmail


async def inbound_by_message_id(session: AsyncSession, message_id: str) -> Optional[InboundEmail]:
    result = await session.execute(select(InboundEmail).where(InboundEmail.message_id == message_id))
    return result.scalar_one_or_none()


async def conversation_for_message_ids(session: AsyncSession, message_ids: Sequence[str]) -> Optional[Conversation]:
    """The conversation of the first of these Message-IDs (without <>) that we received or sent."""
    if not message_ids:
        return None
    wanted = list(message_ids) + [f"<{mid}>" for mid in message_ids]
    found: Dict[str, Any] = {}
    for model in (InboundEmail, OutboundEmail):
        rows = await session.execute(
            select(model.message_id, model.conversation_id).where(
                model.message_id.in_(wanted), model.conversation_id.is_not(None)
            )
        )
        for message_id, conversation_id in rows.all():
            found.setdefault(message_id.strip("<>"), conversation_id)
    for mid in message_ids:  # the most specific reference wins
        if mid in found:
            return await session.get(Conversation, found[mid])
    return None


async def conversation_for_token(session: AsyncSession, token: str) -> Optional[Conversation]:
    result = await session.execute(
        select(Conversation).where(Conversation.channel == "email", Conversation.public_id.like(f"{token}%")).limit(1)
    )
    return result.scalar_one_or_none()


async def thread_for(session: AsyncSession, conversation_id: int) -> Optional[EmailThread]:
    result = await session.execute(select(EmailThread).where(EmailThread.conversation_id == conversation_id))
    return result.scalar_one_or_none()


async def threads_with_unsent(session: AsyncSession) -> List[EmailThread]:
    """Email threads whose conversation has bot, agent or system messages not yet emailed."""
    result = await session.execute(
        select(EmailThread)
        .join(Message, Message.conversation_id == EmailThread.conversation_id)
        .where(Message.id > EmailThread.last_emailed_message_id, Message.sender.in_(("bot", "agent", "system")))
        .distinct()
    )
    return list(result.scalars().all())


async def unsent_messages(session: AsyncSession, thread: EmailThread) -> List[Message]:
    result = await session.execute(
        select(Message)
        .where(Message.conversation_id == thread.conversation_id, Message.id > thread.last_emailed_message_id)
        .order_by(Message.id)
    )
    return list(result.scalars().all())


async def automatic_replies_since(session: AsyncSession, address: str, since: dt.datetime) -> int:
    result = await session.execute(
        select(func.count(OutboundEmail.id)).where(
            OutboundEmail.to_address == address, OutboundEmail.automatic.is_(True), OutboundEmail.created_at >= since
        )
    )
    return int(result.scalar_one())


async def due_outbound(session: AsyncSession, now: dt.datetime, limit: int = 50) -> List[OutboundEmail]:
    result = await session.execute(
        select(OutboundEmail)
        .where(OutboundEmail.status == "queued", OutboundEmail.next_attempt_at <= now)
        .order_by(OutboundEmail.id)
        .limit(limit)
    )
    return list(result.scalars().all())


async def outbound_by_message_id(session: AsyncSession, message_id: str) -> Optional[OutboundEmail]:
    result = await session.execute(
        select(OutboundEmail).where(OutboundEmail.message_id.in_((message_id, f"<{message_id.strip('<>')}>")))
    )
    return result.scalar_one_or_none()


async def claim_outbound(
    session: AsyncSession, outbound_id: int, attempts: int, now: dt.datetime, hold: dt.timedelta
) -> bool:
    """Takes a queued email for one send attempt; False when another sender took it first."""
    result = await session.execute(
        update(OutboundEmail)
        .where(OutboundEmail.id == outbound_id, OutboundEmail.attempts == attempts, OutboundEmail.status == "queued")
        .values(attempts=attempts + 1, next_attempt_at=now + hold)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


async def soft_bounces_since(session: AsyncSession, address: str, since: dt.datetime, reasons: Sequence[str]) -> int:
    """Soft bounces of ``address`` since ``since`` for one of ``reasons``."""
    result = await session.execute(
        select(func.count(BouncedAddress.id)).where(
            BouncedAddress.address == address,
            BouncedAddress.hard.is_(False),
            BouncedAddress.received_at >= since,
            BouncedAddress.reason.in_(list(reasons)),
        )
    )
    return int(result.scalar_one())


async def mark_customers(session: AsyncSession, addresses: Sequence[str], **values) -> None:
    """Sets ``values`` (email_undeliverable, reminders_opt_out) on every customer with one of these addresses."""
    if addresses:
        await session.execute(
            update(Customer)
            .where(func.lower(Customer.email).in_([a.lower() for a in addresses]))
            .values(**values)
            .execution_options(synchronize_session=False)
        )
