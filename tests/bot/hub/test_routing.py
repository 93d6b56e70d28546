"""The router on a real database (SQLite and PostgreSQL) with a scripted Rasa:
storing first, routing by status, handoff, hand-back, resolve and rating,
Rasa outages, ordering and duplicates."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from dataclasses import dataclass

import pytest

from bot.accounts import queries
from bot.config import get_settings
from bot.conversations import agents as agent_data
from bot.conversations import handoffs, store
from bot.conversations.intake import Conflict, ConversationNotFound, MessageRejected
from bot.conversations.models import Agent
from bot.db import session_scope
from bot.hub import outage
from bot.hub.notices import NO_ANSWER
from bot.hub.agent_desk import AgentDesk
from bot.hub.outage import BOT_UNAVAILABLE, OutageRecovery
from bot.hub.rasa_client import RasaUnavailable
from bot.hub.routing import Router
from tests.bot.hub.conftest import clear_hub_tables
from tests.bot.hub.fakes import Clock, RecordingDelivery, ScriptedRasa, handoff_reply

START = dt.datetime(2026, 11, 18, 15, 0, tzinfo=dt.timezone.utc)


@dataclass
class Hub:
    router: Router
    desk: AgentDesk
    recovery: OutageRecovery
    rasa: ScriptedRasa
    delivery: RecordingDelivery
    clock: Clock
    alex: Agent
    sam: Agent

    def __iter__(self):  # tests unpack the parts they use
        return iter((self.router, self.rasa, self.delivery, self.clock, self.alex, self.sam))


@pytest.fixture
async def hub(any_db):
    await clear_hub_tables()
    rasa = ScriptedRasa()
    delivery = RecordingDelivery()
    clock = Clock(START)
    router = Router(get_settings(), rasa, delivery, clock=clock)
    async with session_scope() as session:
        alex = await agent_data.create_agent(session, "alex@example.com", "Alex", "correct horse", START)
        sam = await agent_data.create_agent(session, "sam@example.com", "Sam", "battery staple", START)
        await agent_data.set_presence(session, alex, "online", START)
    yield Hub(router, AgentDesk(router), OutageRecovery(router), rasa, delivery, clock, alex, sam)
    await router.drain()


async def say(router, text, session_key="widget-session-1", client_id=None):
    accepted = await router.customer_message("web", session_key, text, client_id)
    await router.drain()
    return accepted


async def conversation_state(public_id):
    async with session_scope() as session:
        conversation = await store.get_conversation(session, public_id)
        messages = await store.messages_for(session, conversation.id)
        handoff = await handoffs.latest_handoff(session, conversation.id)
    return conversation, messages, handoff


async def test_a_message_is_stored_then_answered_by_the_bot(hub):
    router, rasa, delivery, *_ = hub
    accepted = await say(router, "what do I owe")
    conversation, messages, _ = await conversation_state(accepted.conversation_id)
    assert conversation.status == "bot"
    assert [(m.sender, m.text, m.delivery) for m in messages] == [
        ("customer", "what do I owe", "answered"), ("bot", "bot: what do I owe", "sent")]
    sender_id, text, metadata = rasa.received[0]
    assert (sender_id, text) == (accepted.conversation_id, "what do I owe")
    assert metadata == {"channel": "web", "conversation_id": accepted.conversation_id, "customer_id": None,
                        "hub_message_id": accepted.message_id}
    assert delivery.texts("bot") == ["bot: what do I owe"]
    assert (accepted.conversation_id, True, "bot") in delivery.typing_events


async def test_buttons_become_quick_replies_and_verification_links_the_customer(hub):
    router, rasa, delivery, *_ = hub
    async with session_scope() as session:
        li = await queries.find_customer(session, "AC-100005")
    rasa.reply = lambda text: [
        {"custom": {"verified": {"customer_id": li.id}}},
        {"text": "Anything else?", "buttons": [{"title": "Yes", "payload": "/affirm"}]},
    ]
    accepted = await say(router, "98101")
    conversation, messages, _ = await conversation_state(accepted.conversation_id)
    assert conversation.customer_id == li.id
    assert [m.text for m in messages] == ["98101", "Anything else?"]  # the control payload is not shown
    assert delivery.customer[-1][1]["quick_replies"] == [{"content_type": "text", "title": "Yes", "payload": "/affirm"}]
    await say(router, "thanks")
    assert rasa.received[-1][2]["customer_id"] == li.id


async def test_rejected_messages_are_not_stored(hub):
    router, rasa, *_ = hub
    for bad in ["", "   ", None, 42, "x" * (get_settings().hub.max_message_chars + 1)]:
        with pytest.raises(MessageRejected):
            await router.customer_message("web", "widget-session-1", bad)
    async with session_scope() as session:
        assert await store.latest_conversation(session, "web", "widget-session-1") is None
    assert rasa.received == []


async def test_a_resent_message_is_stored_and_answered_once(hub):
    router, rasa, *_ = hub
    first = await say(router, "hello", client_id="c-1")
    again = await say(router, "hello", client_id="c-1")
    assert (first.duplicate, again.duplicate) == (False, True)
    assert first.message_id == again.message_id
    assert len(rasa.received) == 1


async def test_messages_of_one_conversation_reach_rasa_in_order(hub):
    router, rasa, *_ = hub
    slow_first = asyncio.Event()

    async def send(sender_id, text, metadata):
        if text == "one":
            await asyncio.sleep(0.2)  # the first message is slow; the second must still wait for it
        rasa.received.append((sender_id, text, metadata))
        return [{"text": f"re {text}"}]

    rasa.send = send
    await asyncio.gather(*(router.customer_message("web", "s-order", t) for t in ["one", "two", "three"]))
    await router.drain()
    assert [text for _, text, _ in rasa.received] == ["one", "two", "three"]
    assert not slow_first.is_set()


async def test_a_handoff_payload_moves_the_conversation_to_the_queue(hub):
    router, rasa, delivery, *_ = hub
    rasa.reply = lambda text: handoff_reply("anger", 1)
    accepted = await say(router, "this is a joke, I'm furious")
    conversation, messages, handoff = await conversation_state(accepted.conversation_id)
    assert conversation.status == "pending"
    assert conversation.rasa_needs_resume is True
    assert (handoff.reason, handoff.priority) == ("anger", 1)
    # The customer hears the bot's words, then once where they stand.
    assert delivery.texts("bot") == ["I'm sorry this has been so frustrating. I'm bringing in a person."]
    assert delivery.texts("system") == [
        "You're next in the queue for a person from our team. Someone will be with you shortly. "
        "Anything you write now goes straight to them."]
    queue_events = [data for event, data in delivery.agents if event == "queue"]
    assert queue_events[-1]["queue"][0]["conversation_id"] == accepted.conversation_id
    assert queue_events[-1]["queue"][0]["preview"] == "this is a joke, I'm furious"

    # While people hold it, the bot is silent and the notice is not repeated.
    received_before = len(rasa.received)
    await say(router, "hello? anyone?")
    assert len(rasa.received) == received_before
    assert len(delivery.texts("system")) == 1
    live = [data for event, data in delivery.agents if event == "message"]
    assert live[-1]["message"]["text"] == "hello? anyone?"
    _, messages, _ = await conversation_state(accepted.conversation_id)
    assert messages[-1].delivery == "held_for_agent"


async def test_queue_is_ordered_by_priority_then_waiting_time(hub):
    router, rasa, delivery, clock, *_ = hub
    rasa.reply = lambda text: handoff_reply("cancellation", 3)
    first = await say(router, "cancel my account", session_key="s-a")
    clock.advance(minutes=1)
    rasa.reply = lambda text: handoff_reply("dispute", 2)
    second = await say(router, "I dispute this charge", session_key="s-b")
    clock.advance(minutes=1)
    third = await say(router, "I dispute that too", session_key="s-c")
    async with session_scope() as session:
        queue = await router.queue_view(session)
    assert [item["conversation_id"] for item in queue] == [
        second.conversation_id, third.conversation_id, first.conversation_id]
    assert [item["waiting_seconds"] for item in queue] == [60, 0, 120]
    assert delivery.texts("system")[-1].startswith("You're number 2 in the queue")


async def test_no_agent_online_tells_the_customer_when_someone_will_answer(hub):
    router, rasa, delivery, clock, alex, _ = hub
    async with session_scope() as session:
        await agent_data.set_presence(session, await agent_data.get_agent(session, alex.id), "away", START)
    rasa.reply = lambda text: handoff_reply("asked_for_person", 2)
    await say(router, "I want a person")
    assert "Everyone on our team is busy or away at the moment" in delivery.texts("system")[-1]


async def test_outside_business_hours_the_customer_hears_the_opening_time(hub, monkeypatch):
    from tests.conftest import use_settings

    router, rasa, delivery, *_ = hub
    router.settings = use_settings(monkeypatch, database_url=router.db_url, business_hours="09:00-17:00",
                                   business_days="mon,tue,wed,thu,fri")
    router.clock.now = dt.datetime(2026, 11, 21, 15, 0, tzinfo=dt.timezone.utc)  # a Saturday
    rasa.reply = lambda text: handoff_reply("asked_for_person", 2)
    await say(router, "I want a person")
    assert "Someone will answer Monday at 09:00" in delivery.texts("system")[-1]


async def test_take_reply_hand_back_and_the_bot_answers_again(hub):
    router, rasa, delivery, clock, alex, sam = hub
    rasa.reply = lambda text: handoff_reply()
    accepted = await say(router, "I'm so angry")
    cid = accepted.conversation_id

    view = await hub.desk.take(alex, cid)
    assert (view["status"], view["assigned_agent"]["name"]) == ("assigned", "Alex")
    with pytest.raises(Conflict, match="already taken by Alex"):
        await hub.desk.take(sam, cid)
    with pytest.raises(Conflict, match="not assigned to you"):
        await hub.desk.message(sam, cid, "hi from Sam")

    message = await hub.desk.message(alex, cid, "Hi, I'm Alex. Let's fix this.")
    assert (message["from"], message["agent_name"]) == ("agent", "Alex")
    assert delivery.customer[-1][1]["agent_name"] == "Alex"

    await say(router, "thank you Alex")
    rasa.reply = lambda text: [{"text": f"bot again: {text}"}]
    await hub.desk.hand_back(alex, cid)
    assert rasa.events == [(cid, "resume")]
    conversation, _, handoff = await conversation_state(cid)
    assert (conversation.status, conversation.assigned_agent_id, conversation.rasa_needs_resume) == ("bot", None, False)
    assert (handoff.outcome, handoff.taken_by) == ("handed_back", alex.id)

    await say(router, "what do I owe")
    assert delivery.texts("bot")[-1] == "bot again: what do I owe"
    assert [t for _, t, _ in rasa.received] == ["I'm so angry", "what do I owe"]


async def test_two_agents_taking_at_once_only_one_wins(hub):
    router, rasa, delivery, clock, alex, sam = hub
    rasa.reply = lambda text: handoff_reply()
    cid = (await say(router, "furious")).conversation_id
    results = await asyncio.gather(hub.desk.take(alex, cid), hub.desk.take(sam, cid), return_exceptions=True)
    assert sorted(type(r).__name__ for r in results) == ["Conflict", "dict"]


async def test_resolve_asks_for_a_rating_and_stores_it(hub):
    router, rasa, delivery, clock, alex, _ = hub
    rasa.reply = lambda text: handoff_reply()
    cid = (await say(router, "angry")).conversation_id
    await hub.desk.take(alex, cid)
    await hub.desk.resolve(alex, cid)
    rating_question = delivery.customer[-1][1]
    assert [q["payload"] for q in rating_question["quick_replies"]] == ["1", "2", "3", "4", "5"]

    await say(router, "4")
    async with session_scope() as session:
        conversation = await store.get_conversation(session, cid)
        assert conversation.status == "resolved"
        assert await store.csat_for(session, conversation.id) == 4
    assert delivery.texts("system")[-1] == "Thank you for your rating. Have a good day!"

    # Writing again starts a new conversation with the bot.
    rasa.reply = lambda text: [{"text": "new chat"}]
    again = await say(router, "hello again")
    assert again.conversation_id != cid
    assert delivery.texts("bot")[-1] == "new chat"


async def test_agent_actions_on_unknown_conversations(hub):
    router, *_, alex, _ = hub
    with pytest.raises(ConversationNotFound):
        await hub.desk.take(alex, "no-such-conversation")


async def test_rasa_down_keeps_the_message_and_answers_when_back(hub):
    router, rasa, delivery, clock, *_ = hub
    rasa.down = True
    cid = (await say(router, "what do I owe")).conversation_id
    await say(router, "hello?")
    _, messages, _ = await conversation_state(cid)
    assert [(m.text, m.delivery) for m in messages if m.sender == "customer"] == [
        ("what do I owe", "waiting_for_bot"), ("hello?", "waiting_for_bot")]
    assert len(delivery.texts("system")) == 1  # told once
    assert "Your message is saved" in delivery.texts("system")[0]

    await hub.recovery.retry_waiting()  # still down: nothing changes
    await router.drain()
    assert rasa.received == []

    rasa.down = False
    clock.advance(seconds=30)
    await hub.recovery.retry_waiting()
    await router.drain()
    assert [t for _, t, _ in rasa.received] == ["what do I owe", "hello?"]
    _, messages, _ = await conversation_state(cid)
    assert all(m.delivery == "answered" for m in messages if m.sender == "customer")
    assert delivery.texts("bot") == ["bot: what do I owe", "bot: hello?"]


async def test_a_message_rasa_took_before_timing_out_is_not_sent_twice(hub):
    router, rasa, delivery, clock, *_ = hub
    original = rasa.send

    async def slow_send(sender_id, text, metadata):
        await original(sender_id, text, metadata)  # Rasa gets it and answers...
        raise RasaUnavailable("timed out")  # ...after the hub stopped waiting

    rasa.send = slow_send
    cid = (await say(router, "what do I owe")).conversation_id
    rasa.send = original
    await hub.recovery.retry_waiting()
    await router.drain()
    assert [t for _, t, _ in rasa.received] == ["what do I owe"]  # processed by Rasa once
    assert delivery.texts("bot") == ["bot: what do I owe"]  # and its answer relayed once
    _, messages, _ = await conversation_state(cid)
    assert messages[0].delivery == "answered"


async def test_rasa_down_too_long_hands_the_conversation_to_a_person(hub):
    router, rasa, delivery, clock, *_ = hub
    rasa.down = True
    cid = (await say(router, "what do I owe")).conversation_id
    clock.advance(seconds=get_settings().rasa.outage_handoff_seconds + 1)
    await hub.recovery.retry_waiting()
    await router.drain()
    conversation, messages, handoff = await conversation_state(cid)
    assert conversation.status == "pending"
    assert handoff.reason == BOT_UNAVAILABLE
    assert messages[0].delivery == "held_for_agent"
    assert "in the queue" in delivery.texts("system")[-1]


async def test_hand_back_while_rasa_is_down_resumes_before_the_next_message(hub):
    router, rasa, delivery, clock, alex, _ = hub
    rasa.reply = lambda text: handoff_reply()
    cid = (await say(router, "angry")).conversation_id
    await hub.desk.take(alex, cid)
    rasa.down = True
    await hub.desk.hand_back(alex, cid)
    conversation, _, _ = await conversation_state(cid)
    assert (conversation.status, conversation.rasa_needs_resume) == ("bot", True)
    rasa.down = False
    rasa.reply = lambda text: [{"text": "back"}]
    await say(router, "hi again")
    assert rasa.events == [(cid, "resume")]
    conversation, _, _ = await conversation_state(cid)
    assert conversation.rasa_needs_resume is False


async def test_rasa_saying_nothing_is_explained_to_the_customer(hub):
    router, rasa, delivery, *_ = hub
    rasa.reply = lambda text: []
    await say(router, "show my invoices")
    assert "something went wrong on our side" in delivery.texts("system")[-1]


async def test_rasa_saying_nothing_twice_in_a_row_hands_over_to_a_person(hub):
    # Its action server is down: even asking for a person runs an action, and would fail.
    router, rasa, delivery, *_ = hub
    rasa.reply = lambda text: []
    cid = (await say(router, "show my invoices")).conversation_id
    conversation, _, handoff = await conversation_state(cid)
    assert (conversation.status, handoff) == ("bot", None)
    await say(router, "talk to a person")
    conversation, messages, handoff = await conversation_state(cid)
    assert conversation.status == "pending"
    assert handoff.reason == BOT_UNAVAILABLE
    summary = json.loads(handoff.summary)
    assert summary["detail"] == "the assistant could not answer twice in a row"
    assert [m["text"] for m in summary["transcript"] if m["from"] == "customer"] == [
        "show my invoices", "talk to a person"]
    assert [m.text for m in messages].count(NO_ANSWER) == 1  # said once, then a person
    assert "in the queue" in delivery.texts("system")[-1]


async def test_a_reply_between_two_silent_turns_starts_the_count_again(hub):
    router, rasa, delivery, *_ = hub
    replies = iter([[], [{"text": "Your balance is 10 EUR"}], []])
    rasa.reply = lambda text: next(replies)
    cid = (await say(router, "show my invoices")).conversation_id
    await say(router, "what do I owe")
    await say(router, "thanks")
    conversation, messages, handoff = await conversation_state(cid)
    assert (conversation.status, handoff) == ("bot", None)
    assert [m.text for m in messages].count(NO_ANSWER) == 2


async def test_recover_after_a_restart_keeps_unrouted_messages(hub):
    router, rasa, delivery, clock, *_ = hub
    # A message stored by a hub that crashed before routing it.
    async with session_scope() as session:
        conversation = await store.create_conversation(session, "web", "s-crash", START)
        await store.add_message(session, conversation, "customer", "are you there", "received", START)
        cid = conversation.public_id
    await hub.recovery.recover()
    _, messages, _ = await conversation_state(cid)
    assert messages[0].delivery == "waiting_for_bot"
    await hub.recovery.retry_waiting()
    await router.drain()
    assert [t for _, t, _ in rasa.received] == ["are you there"]
    assert delivery.texts("bot") == ["bot: are you there"]


async def test_a_missing_hub_counts_as_gone_only_after_a_grace_period(hub, monkeypatch):
    # After a database restart a live hub has no liveness lock until its next pass.
    async with session_scope() as session:
        conversation = await store.create_conversation(session, "web", "s-blip", START)
        await store.add_message(session, conversation, "customer", "still there?", "received", START, claimed_by=4242)
        cid = conversation.public_id
    now = [1000.0]
    monkeypatch.setattr(outage.time, "monotonic", lambda: now[0])
    await hub.recovery.recover()
    _, messages, _ = await conversation_state(cid)
    assert messages[0].delivery == "received"  # hub 4242 may still be answering it
    now[0] += hub.recovery.gone_after_seconds - 0.5
    await hub.recovery.recover()
    _, messages, _ = await conversation_state(cid)
    assert messages[0].delivery == "received"
    now[0] += 0.5
    await hub.recovery.recover()
    _, messages, _ = await conversation_state(cid)
    assert messages[0].delivery == "waiting_for_bot"


async def test_a_gone_hubs_message_in_a_conversation_with_people_is_shown_on_the_consoles(hub):
    router, rasa, delivery, *_ = hub
    rasa.reply = lambda text: handoff_reply()
    cid = (await say(router, "a person please")).conversation_id
    async with session_scope() as session:  # stored by a hub that died before holding it for the agents
        conversation = await store.get_conversation(session, cid)
        await store.add_message(session, conversation, "customer", "my meter number is 42", "received", START,
                                claimed_by=4242)
    hub.recovery.gone_after_seconds = 0
    await hub.recovery.recover()
    _, messages, _ = await conversation_state(cid)
    assert messages[-1].delivery == "held_for_agent"
    live = [(d["conversation_id"], d["message"]["text"]) for event, d in delivery.agents if event == "message"]
    assert live[-1] == (cid, "my meter number is 42")


async def test_a_message_whose_routing_failed_in_a_live_hub_is_answered_by_its_next_pass(hub, monkeypatch):
    # PostgreSQL restarted while the hub stored Rasa's replies: the turn failed, the message stayed
    # "received", claimed by this hub, which lives on (so it is no gone hub's orphan).
    router, rasa, delivery, *_ = hub
    real_say = router.say
    failed = []

    async def say_once_failing(session, conversation, sender, text, now, **kwargs):
        if sender == "bot" and not failed:
            failed.append(text)
            raise ConnectionError("terminating connection due to administrator command")
        return await real_say(session, conversation, sender, text, now, **kwargs)

    monkeypatch.setattr(router, "say", say_once_failing)
    accepted = await say(router, "what do I owe")
    _, messages, _ = await conversation_state(accepted.conversation_id)
    assert [(m.text, m.delivery) for m in messages] == [("what do I owe", "received")]
    assert failed == ["bot: what do I owe"]

    await hub.recovery.retry_waiting()  # the next pass of the retry loop
    await router.drain()
    _, messages, _ = await conversation_state(accepted.conversation_id)
    assert [(m.text, m.delivery) for m in messages] == [("what do I owe", "answered"), ("bot: what do I owe", "sent")]
    # Rasa had taken the message: its replies are read back from the tracker, not asked for again.
    assert [t for _, t, _ in rasa.received] == ["what do I owe"]
    assert delivery.texts("bot") == ["bot: what do I owe"]


async def test_a_message_still_being_routed_is_left_to_its_turn(hub):
    # Stored by this hub and not answered yet, but its conversation's work is queued: not picked up.
    router, rasa, *_ = hub
    gate = asyncio.Event()
    real_send = rasa.send

    async def slow_send(sender_id, text, metadata):
        await gate.wait()
        return await real_send(sender_id, text, metadata)

    rasa.send = slow_send
    accepted = await router.customer_message("web", "s-slow", "hello there", None)
    await asyncio.sleep(0.05)
    await hub.recovery.recover()
    _, messages, _ = await conversation_state(accepted.conversation_id)
    assert messages[0].delivery == "received"
    gate.set()
    await router.drain()
    _, messages, _ = await conversation_state(accepted.conversation_id)
    assert [m.delivery for m in messages] == ["answered", "sent"]
    assert [t for _, t, _ in rasa.received] == ["hello there"]


async def test_a_message_stored_during_a_hand_back_and_then_forwarded_is_recovered_if_its_turn_fails(hub, monkeypatch):
    # Stored as held for the agents while the hand-back was being committed, routed to the bot once it
    # was: if its turn fails (the hub killed, the database gone), the next pass still answers it.
    router, rasa, delivery, *_ = hub
    async with session_scope() as session:
        conversation = await store.create_conversation(session, "web", "s-handback-race", START)
        message, _ = await store.add_message(
            session, conversation, "customer", "what do I owe", "held_for_agent", START, claimed_by=router.instance.id
        )
        ids, cid = (conversation.id, message.id), conversation.public_id

    async def dies(*args, **kwargs):
        raise ConnectionError("the hub died mid-turn")

    monkeypatch.setattr(router.bot, "forward", dies)
    with pytest.raises(ConnectionError):
        await router._route(*ids)
    monkeypatch.undo()
    await hub.recovery.retry_waiting()
    await router.drain()
    _, messages, _ = await conversation_state(cid)
    assert [(m.text, m.delivery) for m in messages] == [("what do I owe", "answered"), ("bot: what do I owe", "sent")]
