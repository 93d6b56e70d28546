"""End to end: the real action server and Rasa server, started the way `bot start`
starts them, on a seeded database; a customer chats over the hub's webhook (with its token)."""

from __future__ import annotations

import uuid

import aiohttp
import pytest

from bot.db import dispose_engines, session_scope

from bot.accounts import queries
from bot.nlu.amounts import format_money
from bot.hub.rasa_client import WEBHOOK
from tests.servers import RASA_PORT, RASA_TOKEN

pytestmark = [pytest.mark.e2e, pytest.mark.model]


async def say(sender: str, text: str):
    url = f"http://127.0.0.1:{RASA_PORT}{WEBHOOK}"
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {RASA_TOKEN}"}) as session:
        async with session.post(url, json={"sender": sender, "message": text},
                                timeout=aiohttp.ClientTimeout(total=60)) as response:
            assert response.status == 200, await response.text()
            return await response.json()


def texts(replies):
    return [r["text"] for r in replies if "text" in r]


async def parse(text: str):
    async with aiohttp.ClientSession() as session:
        async with session.post(f"http://127.0.0.1:{RASA_PORT}/model/parse", json={"text": text},
                                params={"token": RASA_TOKEN}) as response:
            assert response.status == 200
            return await response.json()


async def li_wei_balance(db_url: str) -> str:
    try:
        async with session_scope(db_url) as session:
            li = await queries.find_customer(session, "AC-100005")
            balance = await queries.balance_for(session, li.id)
        return format_money(balance.due["USD"], "USD")
    finally:
        await dispose_engines()


async def test_parse_result_carries_intent_sentiment_and_normalised_entities(servers):
    result = await parse("this is ridiculous, I'll pay INV-20015 next friday")
    assert set(result["sentiment"]) >= {"label", "score"}
    assert result["sentiment"]["label"] in ("negative", "neutral", "positive")
    entities = {e["entity"]: e["value"] for e in result["entities"]}
    assert entities == {"invoice_number": "INV-20015", "date": "2026-11-27"}  # BOT_TODAY is a Wednesday
    calm = await parse("could you tell me my balance please")
    assert calm["intent"]["name"] == "check_balance"
    assert calm["sentiment"]["label"] != "negative"


async def test_out_of_scope_questions_get_what_the_bot_can_do(servers):
    """Weather and another company's bill: the bot says it can't help and lists what it can."""
    for question in ("is it going to snow in denver this weekend",
                     "why did my spotify subscription go up this month"):
        sender = f"e2e-{uuid.uuid4().hex[:8]}"
        result = await parse(question)
        assert result["intent"]["name"] == "out_of_scope", result["intent"]
        replies = texts(await say(sender, question))
        assert any("not something I can help with" in t and "balance" in t for t in replies), replies
    # the same bot still answers what it handles
    assert (await parse("how much do i owe you"))["intent"]["name"] == "check_balance"


async def test_verified_customer_gets_answers_from_the_database(servers):
    sender = f"e2e-{uuid.uuid4().hex[:8]}"
    assert texts(await say(sender, "hello"))
    replies = texts(await say(sender, "how much do I owe you?"))
    assert any("confirm it's you" in t for t in replies)
    assert any("account number" in t for t in replies)
    assert not any("$" in t for t in replies)  # nothing before verification

    replies = texts(await say(sender, "it's AC-100005"))
    assert any("ZIP code" in t for t in replies)

    replies = texts(await say(sender, "98101"))
    assert any("Thanks, Li, you're verified" in t for t in replies)
    expected = await li_wei_balance(servers.db_url)
    assert any(expected in t for t in replies), replies  # the pending question, answered

    replies = texts(await say(sender, "why did I get a reminder letter?"))
    assert any("final reminder" in t and "75 days overdue" in t for t in replies), replies


async def test_wrong_secrets_lock_and_hand_over_to_a_person(servers):
    sender = f"e2e-{uuid.uuid4().hex[:8]}"
    await say(sender, "show me my invoices")
    await say(sender, "AC-100001")
    first = texts(await say(sender, "11111"))
    assert any("doesn't match" in t and "2 more" in t for t in first)
    await say(sender, "22222")
    replies = await say(sender, "33333")
    assert any("wasn't able to verify" in t for t in texts(replies))
    handoff = [r["custom"]["handoff"] for r in replies if "custom" in r]
    assert handoff and handoff[0]["reason"] == "verification_locked" and handoff[0]["verified"] is False
    assert handoff[0]["account"] is None  # nothing about the account for an unverified person
    assert await say(sender, "hello??") == []  # paused: the bot stays silent


async def test_asking_for_a_person_hands_over_with_a_summary(servers):
    sender = f"e2e-{uuid.uuid4().hex[:8]}"
    await say(sender, "hi")
    replies = await say(sender, "I want to talk to a real person")
    assert any("connecting you with a member of our team" in t for t in texts(replies))
    (handoff,) = [r["custom"]["handoff"] for r in replies if "custom" in r]
    assert handoff["reason"] == "asked_for_person" and handoff["conversation_id"] == sender
    assert [line["from"] for line in handoff["transcript"]][:2] == ["customer", "bot"]
    assert await say(sender, "are you there?") == []


async def test_an_angry_message_goes_to_a_person(servers):
    sender = f"e2e-{uuid.uuid4().hex[:8]}"
    replies = await say(sender, "this is absolutely disgraceful, the worst service I have ever had, I am furious")
    handoffs = [r["custom"]["handoff"] for r in replies if "custom" in r]
    assert handoffs, replies
    assert handoffs[0]["reason"] == "anger", handoffs[0]
    assert handoffs[0]["sentiment_trail"][-1]["sentiment"] == "negative"
    assert any("frustrating" in t for t in texts(replies))  # feelings acknowledged


async def test_action_server_down_keeps_the_conversation_alive(servers):
    """Stops the action server, checks the Rasa server keeps answering, starts it again."""
    servers.stop_process("action server")
    try:
        sender = f"e2e-{uuid.uuid4().hex[:8]}"
        assert texts(await say(sender, "hello"))  # responses that need no action still work
        replies = await say(sender, "what's my balance")  # needs no action until verification
        assert any("confirm it's you" in t for t in texts(replies))
        # The account lookup needs the action server: Rasa answers the webhook (no crash,
        # HTTP 200) without leaking anything; the hub tells the customer (tests/bot/hub).
        replies = await say(sender, "AC-100005")
        assert not any("$" in t for t in texts(replies))
    finally:
        servers.restart_process("action server")


def handoffs(replies):
    return [r["custom"]["handoff"] for r in replies if "custom" in r]


async def test_what_can_you_do_lists_what_the_bot_does_and_never_hands_off(servers):
    """Issue 12: "what can you do" was read as request_human and handed to a person."""
    sender = f"e2e-{uuid.uuid4().hex[:8]}"
    replies = await say(sender, "what can you do")
    assert not handoffs(replies), replies
    (text,) = texts(replies)
    assert "electricity and gas account" in text and '"agent"' in text, text
    assert texts(await say(sender, "hello there"))  # still talking to the bot, not paused


async def test_northwind_bills_are_ours_and_other_companies_bills_are_not(servers):
    """Issue 12: electricity and gas bills were answered "not something I can help with"."""
    for question in ("how much do I need to pay for my electricity bill", "help me get my gas bill paid"):
        sender = f"e2e-{uuid.uuid4().hex[:8]}"
        replies = texts(await say(sender, question))
        assert any("confirm it's you" in t for t in replies), (question, replies)
        assert not any("not something I can help with" in t for t in replies), (question, replies)
    for question in ("how much is my water bill this month", "can you pay my rent for me"):
        sender = f"e2e-{uuid.uuid4().hex[:8]}"
        replies = texts(await say(sender, question))
        assert any("another company's bill" in t and "electricity and gas" in t for t in replies), (question, replies)


@pytest.mark.parametrize("message, reason, words", [
    ("There's a direct debit I didn't make", "dispute", "billing team"),
    ("I saw a payment I did not do", "dispute", "billing team"),
    ("an unauthorized payment is in my app", "dispute", "billing team"),
    ("This company is bad, please delete my account", "cancellation", "cancellation"),
    ("I think someone has stolen my card", "card_security", "block the card"),
])
async def test_unrecognised_payments_stolen_cards_and_angry_cancellations_reach_a_person(servers, message, reason, words):
    sender = f"e2e-{uuid.uuid4().hex[:8]}"
    replies = await say(sender, message)
    (handoff,) = handoffs(replies)
    assert handoff["reason"] == reason, (message, handoff["reason"], handoff["detail"])
    assert any(words in t for t in texts(replies)), replies


async def test_a_gas_smell_gets_the_emergency_number_at_once_and_a_person(servers):
    sender = f"e2e-{uuid.uuid4().hex[:8]}"
    replies = await say(sender, "help, I can smell gas in the house")
    first = texts(replies)[0]
    assert "gas emergency line" in first and "911" in first and "+1 800 555 0111" in first, first
    assert "connecting you with a member of our team" in first
    (handoff,) = handoffs(replies)
    assert (handoff["reason"], handoff["priority"]) == ("gas_emergency", 1)


async def test_energy_topics_are_recognised_and_answered_safely(servers):
    for message, words in (("my power has gone off", "911"),
                           ("I want to send you my meter reading", "Meter readings"),
                           ("what tariff am I on and is there a cheaper one", "tariff"),
                           ("we're moving house next month", "moving date")):
        sender = f"e2e-{uuid.uuid4().hex[:8]}"
        replies = await say(sender, message)
        assert not handoffs(replies), (message, replies)
        assert any(words in t for t in texts(replies)), (message, replies)


@pytest.mark.parametrize("message, intent", [
    ("it was great to talk to you", "goodbye"),
    ("good speaking to you", "goodbye"),
    ("hello there", "greet"),
    ("hello there, how are you?", "greet"),
    ("that is false", "deny"),
    ("my answer is yes", "affirm"),
])
async def test_small_talk_in_other_words(servers, message, intent):
    assert (await parse(message))["intent"]["name"] == intent
