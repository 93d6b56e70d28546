"""End to end through the hub: the real Rasa server and action server behind it.

A widget customer (socket.io, Rasa's socketio protocol) chats, verifies, gets
escalated by an angry message; an agent takes over through the API and replies;
the customer receives it; the agent hands back; the bot answers again."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from bot.accounts import queries
from bot.conversations import store
from bot.db import session_scope
from bot.hub.rasa_client import RasaClient
from tests.hub_clients import Customer, bot_texts, console_socket, eventually, until_reply
from tests.servers import AGENT_PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.model]


async def test_escalation_agent_takeover_and_hand_back(servers):
    hub = servers.hub_url
    customer = await Customer.connect(hub)
    agent = aiohttp.ClientSession(base_url=hub, cookie_jar=aiohttp.CookieJar(unsafe=True))
    try:
        async with agent.post("/api/auth/login", json={"email": "alex@northwind.example",
                                                       "password": AGENT_PASSWORD}) as response:
            assert response.status == 200
        events = {"queue": [], "message": []}
        console = await console_socket(hub, agent, events)

        # Verified first, so the agent sees who it is.
        await customer.say("what do I owe")
        await until_reply(customer, lambda t: "account number" in t)
        await customer.say("AC-100005")
        await until_reply(customer, lambda t: "ZIP code" in t)
        await customer.say("98101")
        await until_reply(customer, lambda t: "you're verified" in t)
        assert not [m for m in customer.received if "handoff" in m or "verified" in m]  # control payloads stay in the hub

        # An angry message: the bot acknowledges it and hands over; the customer hears where they stand.
        await customer.say("this is absolutely disgraceful, the worst service I have ever had, I am furious")
        await until_reply(customer, lambda t: "frustrating" in t)
        await eventually(lambda: any("in the queue" in (m.get("text") or "") for m in customer.received), 30)
        # Other tests may leave conversations in the queue: find this customer's.
        async with session_scope(servers.db_url) as session:
            mine = (await store.latest_conversation(session, "web", customer.session_id)).public_id

        def my_item():
            latest = events["queue"][-1]["queue"] if events["queue"] else []
            return [item for item in latest if item["conversation_id"] == mine]
        (item,) = await eventually(my_item, 30)
        assert (item["reason"], item["channel"], item["customer"]["account_number"]) == ("anger", "web", "AC-100005")
        cid = item["conversation_id"]

        async with agent.get(f"/api/conversations/{cid}") as response:
            detail = await response.json()
        summary = detail["handoff"]["summary"]
        assert summary["verified"] is True and summary["account"]["account_number"] == "AC-100005"
        assert summary["sentiment_trail"][-1]["sentiment"] == "negative"
        async with agent.get(f"/api/conversations/{cid}/customer") as response:
            panel = (await response.json())["customer"]
        assert panel["name"] == "Li Wei" and any(i["days_overdue"] == 75 for i in panel["invoices"])

        async with agent.post(f"/api/conversations/{cid}/take") as response:
            assert response.status == 200
        async with agent.post(f"/api/conversations/{cid}/messages",
                              json={"text": "Hi Li, I'm Alex. I'm sorry about this, let me look."}) as response:
            assert response.status == 201
        from_agent = await eventually(lambda: [m for m in customer.received if m["metadata"]["from"] == "agent"])
        assert from_agent[0]["text"] == "Hi Li, I'm Alex. I'm sorry about this, let me look."
        assert from_agent[0]["metadata"]["agent_name"] == "Alex Morgan"

        # While the agent holds it, the bot stays silent and the agent sees the customer live.
        bot_before = len(bot_texts(customer))
        await customer.say("thank you Alex")
        await eventually(lambda: any(e["message"]["text"] == "thank you Alex" for e in events["message"]))
        assert len(bot_texts(customer)) == bot_before

        async with agent.post(f"/api/conversations/{cid}/handback") as response:
            assert response.status == 200
        await customer.say("why did I get a reminder letter?")
        # The bot is back, and still knows who the customer is (no second verification).
        answer = await until_reply(customer, lambda t: "final reminder" in t)
        assert "75 days overdue" in answer[0]
        await console.disconnect()
    finally:
        await customer.close()
        await agent.close()


async def test_the_hub_remembers_the_verified_customer(servers):
    """The verified payload from the actions links the conversation to the account."""
    customer = await Customer.connect(servers.hub_url)
    try:
        await customer.say("show my invoices")
        await until_reply(customer, lambda t: "account number" in t)
        await customer.say("AC-100003")
        await until_reply(customer, lambda t: "ZIP code" in t)
        await customer.say("60614")
        await until_reply(customer, lambda t: "you're verified" in t)
    finally:
        await customer.close()
    # The reply is relayed as it is stored; the turn's transaction (with the link) commits a moment later.
    for _ in range(100):
        async with session_scope(servers.db_url) as session:
            conversation = await store.latest_conversation(session, "web", customer.session_id)
            aisha = await queries.find_customer(session, "AC-100003")
            last = [m for m in await store.messages_for(session, conversation.id) if m.sender == "customer"][-1]
        if conversation.customer_id is not None:
            break
        await asyncio.sleep(0.05)
    assert conversation.customer_id == aisha.id
    assert conversation.customer_known_by == "verification"

    # Rasa's tracker knows which hub message each turn answered: a retry after a
    # timeout finds the answer there instead of sending the message twice.
    rasa = RasaClient(servers.settings.rasa.url, 10, servers.settings.rasa.token)
    try:
        replies = await rasa.replies_to(conversation.public_id, last.id)
    finally:
        await rasa.close()
    assert any("you're verified" in (r.get("text") or "") for r in replies)
    assert {"custom": {"verified": {"customer_id": aisha.id}}} in replies
