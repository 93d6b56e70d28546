"""The columns the conversation store keeps for the reports (migration 0009), on both databases:
each conversation's next start in its customer's line, each handoff's first agent reply."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from bot.conversations import handoffs, returns, store
from bot.conversations.models import Conversation, Handoff
from bot.db import session_scope

T0 = dt.datetime(2026, 11, 18, 9, tzinfo=dt.timezone.utc)


def at(minutes: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def naive(moment):
    return None if moment is None else moment.replace(tzinfo=None)


async def next_starts(session):
    rows = (await session.execute(select(Conversation.public_id, Conversation.next_start_at))).all()
    return {public_id: naive(next_start) for public_id, next_start in rows}


async def test_next_start_follows_each_line_through_new_conversations_and_verification(any_db):
    async with session_scope() as session:
        customer = (await session.execute(select(Conversation.customer_id).where(
            Conversation.customer_id.isnot(None)).limit(1))).scalar_one_or_none() or 1
        a1 = await store.create_conversation(session, "web", "line-a", at(0))
        b1 = await store.create_conversation(session, "web", "line-b", at(5))
        a2 = await store.create_conversation(session, "web", "line-a", at(10))
        e1 = await store.create_conversation(session, "email", "line-a", at(15))  # same key, other channel
        ids = {c.id: name for c, name in ((a1, "a1"), (b1, "b1"), (a2, "a2"), (e1, "e1"))}
    async with session_scope() as session:
        rows = (await session.execute(select(Conversation.id, Conversation.next_start_at)
                                      .where(Conversation.id.in_(ids)))).all()
        assert {ids[i]: naive(n) for i, n in rows} == {
            "a1": naive(at(10)), "b1": None, "a2": None, "e1": None}

        # b1's customer verifies, then a2 turns out to be the same customer: a2 leaves line-a
        # (a1 has no next any more) and follows b1 in the customer's line.
        latest_before = (await session.execute(select(Conversation.id).where(
            Conversation.customer_id == customer, Conversation.created_at < at(5))
            .order_by(Conversation.created_at.desc(), Conversation.id.desc()).limit(1))).scalar_one_or_none()
        b1 = await store.get_conversation_by_id(session, b1.id)
        await store.update_conversation(session, b1, at(6), customer_id=customer, customer_known_by="verification")
        a2 = await store.get_conversation_by_id(session, a2.id)
        await store.update_conversation(session, a2, at(11), customer_id=customer, customer_known_by="verification")
        await store.update_conversation(session, a2, at(12), customer_id=customer)  # the same customer again
    async with session_scope() as session:
        rows = (await session.execute(select(Conversation.id, Conversation.next_start_at)
                                      .where(Conversation.id.in_(ids)))).all()
        assert {ids[i]: naive(n) for i, n in rows} == {
            "a1": None, "b1": naive(at(10)), "a2": None, "e1": None}
        if latest_before is not None:  # the customer's conversation before b1 now leads to b1
            previous = await store.get_conversation_by_id(session, latest_before)
            assert naive(previous.next_start_at) == naive(at(5))
        # What the store kept is what the backfill (migration 0009's statement) works out from scratch.
        kept = await next_starts(session)
        await returns.backfill(session)
        assert await next_starts(session) == kept


async def test_first_agent_reply_is_the_first_agent_message_at_or_after_the_request(any_db):
    async with session_scope() as session:
        conversation = await store.create_conversation(session, "web", "first-reply", at(0))
        await store.add_message(session, conversation, "agent", "before any handoff", "sent", at(1))
        first = await handoffs.create_handoff(session, conversation, "anger", 1, {}, at(2))
        await store.add_message(session, conversation, "customer", "hello?", "answered", at(3))
        await store.add_message(session, conversation, "agent", "Hi", "sent", at(4))
        await store.add_message(session, conversation, "agent", "Anything else?", "sent", at(5))
        await handoffs.end_handoff(session, conversation.id, "handed_back", at(6))
        second = await handoffs.create_handoff(session, conversation, "dispute", 2, {}, at(7))
        await store.add_message(session, conversation, "system", "An agent will be with you", "sent", at(8))
        ids = (first.id, second.id)
    async with session_scope() as session:
        assert await first_replies(session, ids) == [naive(at(4)), None]
        await store.add_message(session, conversation, "agent", "Back again", "sent", at(9))
    async with session_scope() as session:
        assert await first_replies(session, ids) == [naive(at(4)), naive(at(9))]
        await handoffs.backfill_first_replies(session)
        assert await first_replies(session, ids) == [naive(at(4)), naive(at(9))]


async def first_replies(session, ids):
    rows = (await session.execute(select(Handoff.id, Handoff.first_agent_reply_at).where(Handoff.id.in_(ids)))).all()
    return [naive(reply) for _, reply in sorted(rows)]
