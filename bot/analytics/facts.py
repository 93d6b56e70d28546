"""Loads the raw facts of a period from the database into plain records.

One query per kind of fact (no query per row), each served by an index of
migration 0007; where a period holds many alike (conversations, ratings,
reminders, charge attempts; promises per day) they come counted per UTC hour. What
would take a report ordering every conversation of its period (the same customer's
next start) or probing the messages of every handoff (the first agent reply) is
kept on the rows when they are written (migration 0009: bot.conversations.returns,
bot.conversations.handoffs). The caller passes the session and owns the
transaction. The period is ``[start, end)`` in aware UTC; ``channel`` None means
every channel. Dunning facts (reminders, payments, promises, card retries) are not per channel.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import List, Optional

from sqlalchemy import case, exists, func, select, text, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.accounts.models import Payment, PaymentAttempt, PromiseToPay
from bot.analytics.dialect import Sql
from bot.analytics.facts_types import (
    AttemptFact,
    ConversationFact,
    HandoffFact,
    PaymentFact,
    PromiseFact,
    RatingFact,
    ReminderFact,
    ResolvedFact,
)
from bot.conversations.models import Conversation, CsatRating, Handoff
from bot.dunning.models import Reminder


@dataclass(frozen=True)
class Facts:
    start: dt.datetime
    end: dt.datetime
    conversations: List[ConversationFact]  # started in the period (and channel), counted per hour
    resolved: List[ResolvedFact]
    handoffs: List[HandoffFact]
    ratings: List[RatingFact]
    reminders: List[ReminderFact]  # sent in the period
    payments: List[PaymentFact]  # received in the period
    promises: List[PromiseFact]
    attempts: List[AttemptFact]  # charge attempts in the period


def _channel(query, channel: Optional[str]):
    return query.where(Conversation.channel == channel) if channel else query


async def conversations(
    session: AsyncSession, start: dt.datetime, end: dt.datetime, channel: Optional[str], reopen_days: int
) -> List[ConversationFact]:
    """Conversations that started in the period, counted per hour, with whole days from each one's end
    until the same customer's next start (kept on the row by bot.conversations.returns)."""
    sql = Sql(session)
    later = reopen_days + 1
    ended = func.coalesce(Conversation.resolved_at, Conversation.updated_at)
    days = sql.days_up(Conversation.next_start_at, ended)
    each = select(
        Conversation.created_at,
        Conversation.channel,
        exists().where(Handoff.conversation_id == Conversation.id).label("handed_off"),
        case((Conversation.next_start_at.is_(None), later), (days > later, later), else_=days).label("back"),
    ).where(Conversation.created_at >= start, Conversation.created_at < end)
    each = _channel(each, channel).subquery()
    query = select(sql.hour(each.c.created_at), each.c.channel, each.c.handed_off, each.c.back, func.count())
    return await sql.facts(ConversationFact, query.group_by(text("1, 2, 3, 4")), times=(0,))


async def resolved(
    session: AsyncSession, start: dt.datetime, end: dt.datetime, channel: Optional[str]
) -> List[ResolvedFact]:
    sql = Sql(session)
    query = select(Conversation.created_at, sql.seconds(Conversation.resolved_at, Conversation.created_at)).where(
        Conversation.created_at >= start, Conversation.created_at < end, Conversation.resolved_at.isnot(None)
    )
    return await sql.facts(ResolvedFact, _channel(query, channel), times=(0,))


async def handoffs(
    session: AsyncSession, start: dt.datetime, end: dt.datetime, channel: Optional[str]
) -> List[HandoffFact]:
    query = (
        select(
            Handoff.conversation_id,
            Conversation.channel,
            Handoff.reason,
            Handoff.requested_at,
            Handoff.taken_at,
            Handoff.ended_at,
            Handoff.first_agent_reply_at,  # kept by bot.conversations.handoffs
        )
        .join(Conversation, Conversation.id == Handoff.conversation_id)
        .where(Handoff.requested_at >= start, Handoff.requested_at < end)
    )
    return await Sql(session).facts(HandoffFact, _channel(query, channel), times=(3, 4, 5, 6))


async def ratings(
    session: AsyncSession, start: dt.datetime, end: dt.datetime, channel: Optional[str]
) -> List[RatingFact]:
    sql = Sql(session)
    query = (
        select(sql.hour(CsatRating.created_at), CsatRating.rating, func.count())
        .where(CsatRating.created_at >= start, CsatRating.created_at < end)
        .group_by(text("1, 2"))
    )
    if channel:  # the conversation only for its channel
        query = query.join(Conversation, Conversation.id == CsatRating.conversation_id)
    return await sql.facts(RatingFact, _channel(query, channel), times=(0,))


async def reminders(session: AsyncSession, start: dt.datetime, end: dt.datetime) -> List[ReminderFact]:
    sql = Sql(session)
    query = (
        select(sql.hour(Reminder.sent_at), Reminder.stage, func.count())
        .where(Reminder.sent_at >= start, Reminder.sent_at < end)
        .group_by(text("1, 2"))
    )
    return await sql.facts(ReminderFact, query, times=(0,))


async def payments(session: AsyncSession, start: dt.datetime, end: dt.datetime) -> List[PaymentFact]:
    """Payments received in the period, each with the last reminder of its invoice sent at or before it."""
    sql = Sql(session)
    last = (
        select(Reminder.stage, Reminder.sent_at)
        .where(Reminder.invoice_id == Payment.invoice_id, Reminder.sent_at <= Payment.paid_at)
        .order_by(Reminder.sent_at.desc())
        .limit(1)
    )  # one index probe, backwards
    if sql.postgres:  # a lateral join: one probe gives both columns
        reminder = last.lateral("last_reminder")
        query = select(Payment.paid_at, Payment.amount, reminder.c.stage, reminder.c.sent_at).outerjoin(
            reminder, true()
        )
    else:  # SQLite has no LATERAL: the same probe for each column
        query = select(
            Payment.paid_at,
            Payment.amount,
            last.with_only_columns(Reminder.stage).scalar_subquery(),
            last.with_only_columns(Reminder.sent_at).scalar_subquery(),
        )
    query = query.where(Payment.paid_at >= start, Payment.paid_at < end)
    return await sql.facts(PaymentFact, query, times=(0, 3))


async def promises(session: AsyncSession, first_day: dt.date, last_day: dt.date) -> List[PromiseFact]:
    query = (
        select(PromiseToPay.promised_date, PromiseToPay.status, func.count())
        .where(
            PromiseToPay.kind == "promise",
            PromiseToPay.promised_date >= first_day,
            PromiseToPay.promised_date <= last_day,
        )
        .group_by(PromiseToPay.promised_date, PromiseToPay.status)
    )
    return await Sql(session).facts(PromiseFact, query)


async def attempts(session: AsyncSession, start: dt.datetime, end: dt.datetime) -> List[AttemptFact]:
    """Charge attempts in the period, counted per hour, outcome and whether a soft decline of their
    invoice came before them (with their amount together)."""
    earlier = aliased(PaymentAttempt)
    soft_before = exists().where(
        earlier.invoice_id == PaymentAttempt.invoice_id,
        earlier.attempted_at < PaymentAttempt.attempted_at,
        earlier.outcome == "declined",
        earlier.decline_type == "soft",
    )
    sql = Sql(session)
    each = (
        select(PaymentAttempt.attempted_at, PaymentAttempt.amount, PaymentAttempt.outcome, soft_before.label("soft"))
        .where(PaymentAttempt.attempted_at >= start, PaymentAttempt.attempted_at < end)
        .subquery()
    )
    query = select(
        sql.hour(each.c.attempted_at), func.sum(each.c.amount), each.c.outcome, each.c.soft, func.count()
    ).group_by(text("1, 3, 4"))
    return await sql.facts(AttemptFact, query, times=(0,))


async def load(
    session: AsyncSession,
    start: dt.datetime,
    end: dt.datetime,
    first_day: dt.date,
    last_day: dt.date,
    channel: Optional[str],
    reopen_days: int,
) -> Facts:
    """Every fact of the period ``[start, end)`` (local days ``first_day``..``last_day``)."""
    if Sql(session).postgres:
        # Short queries: compiling them (PostgreSQL's JIT) costs more than running them.
        await session.execute(text("SET LOCAL jit = off"))
    return Facts(
        start=start,
        end=end,
        conversations=await conversations(session, start, end, channel, reopen_days),
        resolved=await resolved(session, start, end, channel),
        handoffs=await handoffs(session, start, end, channel),
        ratings=await ratings(session, start, end, channel),
        reminders=await reminders(session, start, end),
        payments=await payments(session, start, end),
        promises=await promises(session, first_day, last_day),
        attempts=await attempts(session, start, end),
    )
