"""Loads the raw facts of a period from the database into plain records.

One query per kind of fact (no query per row), each served by an index of
migration 0007; where a period holds many alike (conversations, ratings,
reminders) they come counted per UTC hour. The caller passes the session and owns
the transaction. The period is ``[start, end)`` in aware UTC; ``channel`` None means
every channel. Dunning facts (reminders, payments, promises, card retries) are not per channel.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, List, Optional

from sqlalchemy import Integer, case, cast, exists, extract, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.accounts.models import Payment, PaymentAttempt, PromiseToPay
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
from bot.conversations.models import Conversation, CsatRating, Handoff, Message
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


def utc(moment: Any) -> dt.datetime:
    """SQLite hands back naive UTC (and its hour buckets as text); PostgreSQL aware times."""
    if isinstance(moment, str):
        moment = dt.datetime.fromisoformat(moment)
    if moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=dt.timezone.utc)


def utc_or_none(moment: Any) -> Optional[dt.datetime]:
    """:func:`utc` of a nullable column (or an outer join's missing row): None stays None."""
    return None if moment is None else utc(moment)


class _Sql:
    """The few expressions SQLite and PostgreSQL spell differently."""

    def __init__(self, session: AsyncSession) -> None:
        self.postgres = session.get_bind().dialect.name == "postgresql"

    def hour(self, column):
        if self.postgres:
            return func.date_trunc("hour", column)
        return func.strftime("%Y-%m-%d %H:00:00", column)

    def seconds(self, later, earlier):
        if self.postgres:
            return extract("epoch", later - earlier)
        # julianday is a float of days: round to the millisecond so 7 days stay 7 days.
        return func.round((func.julianday(later) - func.julianday(earlier)) * 86400.0, 3)

    def days_up(self, later, earlier):
        """Whole days from earlier to later, rounded up (ceil)."""
        days = self.seconds(later, earlier) / 86400.0
        if self.postgres:
            return cast(func.ceil(days), Integer)
        truncated = cast(days, Integer)  # SQLite truncates towards zero: already ceil below zero
        return truncated + case((days > truncated, 1), else_=0)


def _channel(query, channel: Optional[str]):
    return query.where(Conversation.channel == channel) if channel else query


async def conversations(
    session: AsyncSession, start: dt.datetime, end: dt.datetime, channel: Optional[str], reopen_days: int
) -> List[ConversationFact]:
    sql = _Sql(session)
    # The same customer: the verified one, else the same widget session or email thread (no string
    # building: sorting on the columns themselves is cheaper).
    anonymous = Conversation.customer_id.is_(None)
    customer = (
        Conversation.customer_id,
        case((anonymous, Conversation.channel)),
        case((anonymous, Conversation.session_key)),
    )
    # Each conversation with the next start of the same customer, among those up to reopen_days after the period.
    each = (
        select(
            Conversation.created_at,
            Conversation.channel,
            func.coalesce(Conversation.resolved_at, Conversation.updated_at).label("ended"),
            exists().where(Handoff.conversation_id == Conversation.id).label("handed_off"),
            func.lead(Conversation.created_at)
            .over(partition_by=customer, order_by=(Conversation.created_at, Conversation.id))
            .label("next_start"),
        )
        .where(Conversation.created_at >= start, Conversation.created_at < end + dt.timedelta(days=reopen_days))
        .subquery()
    )
    later = reopen_days + 1
    days = sql.days_up(each.c.next_start, each.c.ended)
    days_to_return = case((each.c.next_start.is_(None), later), (days > later, later), else_=days)
    query = (
        select(sql.hour(each.c.created_at), each.c.channel, each.c.handed_off, days_to_return, func.count())
        .where(each.c.created_at < end)
        .group_by(text("1, 2, 3, 4"))
    )
    if channel:
        query = query.where(each.c.channel == channel)
    result = await session.execute(query)
    return [ConversationFact(utc(hour), ch, bool(handed), int(back), n) for hour, ch, handed, back, n in result.all()]


async def resolved(
    session: AsyncSession, start: dt.datetime, end: dt.datetime, channel: Optional[str]
) -> List[ResolvedFact]:
    query = select(
        Conversation.created_at, _Sql(session).seconds(Conversation.resolved_at, Conversation.created_at)
    ).where(Conversation.created_at >= start, Conversation.created_at < end, Conversation.resolved_at.isnot(None))
    result = await session.execute(_channel(query, channel))
    return [ResolvedFact(utc(created), float(seconds)) for created, seconds in result.all()]


async def handoffs(
    session: AsyncSession, start: dt.datetime, end: dt.datetime, channel: Optional[str]
) -> List[HandoffFact]:
    first_reply = (
        select(func.min(Message.created_at))
        .where(
            Message.conversation_id == Handoff.conversation_id,
            Message.sender == "agent",
            Message.created_at >= Handoff.requested_at,
        )
        .scalar_subquery()
    )
    query = (
        select(
            Handoff.conversation_id,
            Conversation.channel,
            Handoff.reason,
            Handoff.requested_at,
            Handoff.taken_at,
            Handoff.ended_at,
            first_reply,
        )
        .join(Conversation, Conversation.id == Handoff.conversation_id)
        .where(Handoff.requested_at >= start, Handoff.requested_at < end)
    )
    result = await session.execute(_channel(query, channel))
    return [
        HandoffFact(cid, ch, reason, utc(requested), utc_or_none(taken), utc_or_none(ended), utc_or_none(reply))
        for cid, ch, reason, requested, taken, ended, reply in result.all()
    ]


async def ratings(
    session: AsyncSession, start: dt.datetime, end: dt.datetime, channel: Optional[str]
) -> List[RatingFact]:
    query = (
        select(_Sql(session).hour(CsatRating.created_at), CsatRating.rating, func.count())
        .join(Conversation, Conversation.id == CsatRating.conversation_id)
        .where(CsatRating.created_at >= start, CsatRating.created_at < end)
        .group_by(text("1, 2"))
    )
    result = await session.execute(_channel(query, channel))
    return [RatingFact(utc(hour), rating, n) for hour, rating, n in result.all()]


async def reminders(session: AsyncSession, start: dt.datetime, end: dt.datetime) -> List[ReminderFact]:
    result = await session.execute(
        select(_Sql(session).hour(Reminder.sent_at), Reminder.stage, func.count())
        .where(Reminder.sent_at >= start, Reminder.sent_at < end)
        .group_by(text("1, 2"))
    )
    return [ReminderFact(utc(hour), stage, n) for hour, stage, n in result.all()]


async def payments(session: AsyncSession, start: dt.datetime, end: dt.datetime) -> List[PaymentFact]:
    """Payments received in the period, each with the last reminder of its invoice sent at or before it."""
    last = (
        select(Reminder.stage, Reminder.sent_at)
        .where(Reminder.invoice_id == Payment.invoice_id, Reminder.sent_at <= Payment.paid_at)
        .order_by(Reminder.sent_at.desc())
        .limit(1)
    )  # one index probe, backwards
    result = await session.execute(
        select(
            Payment.paid_at,
            Payment.amount,
            last.with_only_columns(Reminder.stage).scalar_subquery(),
            last.with_only_columns(Reminder.sent_at).scalar_subquery(),
        ).where(Payment.paid_at >= start, Payment.paid_at < end)
    )
    return [PaymentFact(utc(paid), amount, stage, utc_or_none(sent)) for paid, amount, stage, sent in result.all()]


async def promises(session: AsyncSession, first_day: dt.date, last_day: dt.date) -> List[PromiseFact]:
    result = await session.execute(
        select(PromiseToPay.promised_date, PromiseToPay.status).where(
            PromiseToPay.kind == "promise",
            PromiseToPay.promised_date >= first_day,
            PromiseToPay.promised_date <= last_day,
        )
    )
    return [PromiseFact(day, status) for day, status in result.all()]


async def attempts(session: AsyncSession, start: dt.datetime, end: dt.datetime) -> List[AttemptFact]:
    """Charge attempts in the period, each knowing whether a soft decline of its invoice came before."""
    earlier = aliased(PaymentAttempt)
    soft_before = exists().where(
        earlier.invoice_id == PaymentAttempt.invoice_id,
        earlier.attempted_at < PaymentAttempt.attempted_at,
        earlier.outcome == "declined",
        earlier.decline_type == "soft",
    )
    result = await session.execute(
        select(PaymentAttempt.attempted_at, PaymentAttempt.amount, PaymentAttempt.outcome, soft_before).where(
            PaymentAttempt.attempted_at >= start, PaymentAttempt.attempted_at < end
        )
    )
    return [AttemptFact(utc(at), amount, outcome, bool(soft)) for at, amount, outcome, soft in result.all()]


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
    if _Sql(session).postgres:
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
