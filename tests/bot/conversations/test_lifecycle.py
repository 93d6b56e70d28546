"""The lifecycle: every status change by compare-and-set, the handoff record in step,
and one change event per change, only after the transaction commits."""

from __future__ import annotations

import datetime as dt
from typing import List

import pytest

from bot.accounts import queries
from bot.conversations import handoffs, store
from bot.conversations.lifecycle import Change, Lifecycle, invoice_matter_key
from bot.db import session_factory, session_scope

NOW = dt.datetime(2026, 11, 18, 12, tzinfo=dt.timezone.utc)


@pytest.fixture
def heard(sqlite_db):
    lifecycle = Lifecycle()
    changes: List[Change] = []

    async def listener(change: Change) -> None:
        changes.append(change)

    lifecycle.subscribe(listener)
    return lifecycle, changes


async def new_conversation(key: str):
    async with session_scope() as session:
        return await store.create_conversation(session, "web", key, NOW)


async def test_each_change_is_heard_once_after_commit(heard):
    lifecycle, changes = heard
    conversation = await new_conversation("lifecycle-1")
    async with session_scope() as session:
        fresh = await store.get_conversation_by_id(session, conversation.id)
        assert await lifecycle.escalate(session, fresh, "anger", None, {"why": "test"}, NOW)
        await session.flush()
        assert changes == []  # not before the commit
    await lifecycle.settle()
    assert changes == [Change(conversation.id, conversation.public_id, "escalate", "pending")]
    async with session_scope() as session:
        handoff = await handoffs.open_handoff(session, conversation.id)
        assert (handoff.reason, handoff.priority) == ("anger", 1)  # the priority from bot.handoff_reasons

        fresh = await store.get_conversation_by_id(session, conversation.id)
        assert await lifecycle.take(session, fresh, agent_id=None, now=NOW) is True
        assert await lifecycle.take(session, fresh, agent_id=None, now=NOW) is False  # already assigned
        assert await lifecycle.resolve(session, fresh, NOW)
    await lifecycle.settle()
    assert [(c.action, c.status) for c in changes] == [
        ("escalate", "pending"), ("take", "assigned"), ("resolve", "resolved")]
    async with session_scope() as session:
        assert await handoffs.open_handoff(session, conversation.id) is None
        assert (await handoffs.latest_handoff(session, conversation.id)).outcome == "resolved"


async def test_a_rolled_back_change_is_never_heard(heard):
    lifecycle, changes = heard
    conversation = await new_conversation("lifecycle-2")
    with pytest.raises(RuntimeError):
        async with session_scope() as session:
            fresh = await store.get_conversation_by_id(session, conversation.id)
            assert await lifecycle.escalate(session, fresh, "dispute", None, {}, NOW)
            raise RuntimeError("the caller failed after the change")
    await lifecycle.settle()
    assert changes == []
    async with session_scope() as session:
        assert (await store.get_conversation_by_id(session, conversation.id)).status == "bot"


async def test_a_savepoint_rolled_back_after_a_change_does_not_silence_it(heard):
    # Storing a message uses a SAVEPOINT; one rolled back (a duplicate) must not drop the
    # change made before it in the same, committed, transaction.
    lifecycle, changes = heard
    conversation = await new_conversation("lifecycle-savepoint")
    async with session_scope() as session:
        fresh = await store.get_conversation_by_id(session, conversation.id)
        assert await lifecycle.escalate(session, fresh, "anger", None, {}, NOW)
        with pytest.raises(RuntimeError):
            async with session.begin_nested():
                raise RuntimeError("a duplicate, say")
    await lifecycle.settle()
    assert changes == [Change(conversation.id, conversation.public_id, "escalate", "pending")]


async def test_changes_in_two_transactions_of_one_session_are_each_heard(heard):
    lifecycle, changes = heard
    conversation = await new_conversation("lifecycle-two-commits")
    async with session_factory()() as session:
        async with session.begin():
            fresh = await store.get_conversation_by_id(session, conversation.id)
            assert await lifecycle.escalate(session, fresh, "anger", None, {}, NOW)
        await lifecycle.settle()
        assert [c.action for c in changes] == ["escalate"]
        async with session.begin():
            fresh = await store.get_conversation_by_id(session, conversation.id)
            assert await lifecycle.take(session, fresh, agent_id=None, now=NOW)
    await lifecycle.settle()
    assert [c.action for c in changes] == ["escalate", "take"]


async def test_an_alert_opens_one_matter_and_adds_notes_after(heard):
    lifecycle, changes = heard
    async with session_scope() as session:
        li = await queries.find_customer(session, "AC-100005")
        first = await lifecycle.alert(session, session_key=invoice_matter_key("INV-20015"), customer_id=li.id,
                                      known_by="our_records", reason="collections", note="reached collections",
                                      summary={"source": "dunning"}, now=NOW)
        second = await lifecycle.alert(session, session_key=invoice_matter_key("INV-20015"), customer_id=li.id,
                                       known_by="our_records", reason="broken_promise", note="promise broken",
                                       summary={"source": "dunning"}, now=NOW)
    await lifecycle.settle()
    assert first == second
    assert [(c.action, c.status) for c in changes] == [("escalate", "pending")]
    async with session_scope() as session:
        conversation = await store.get_conversation_by_id(session, first)
        handoff = await handoffs.open_handoff(session, first)
        notes = await store.notes_for(session, first)
    assert (conversation.customer_id, conversation.customer_known_by) == (li.id, "our_records")
    assert (handoff.reason, handoff.priority) == ("collections", 3)
    assert [n.text for n in notes] == ["reached collections", "promise broken"]


async def test_a_failing_subscriber_does_not_stop_the_others(sqlite_db):
    lifecycle, heard = Lifecycle(), []

    async def broken(change: Change) -> None:
        raise ValueError("subscriber bug")

    async def working(change: Change) -> None:
        heard.append(change.action)

    lifecycle.subscribe(broken)
    lifecycle.subscribe(working)
    conversation = await new_conversation("lifecycle-3")
    async with session_scope() as session:
        fresh = await store.get_conversation_by_id(session, conversation.id)
        await lifecycle.escalate(session, fresh, "anger", None, {}, NOW)
    await lifecycle.settle()
    assert heard == ["escalate"]
