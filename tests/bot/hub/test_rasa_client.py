"""The Rasa client against a real HTTP server standing in for Rasa: what it sends,
and how a slow, failing or absent Rasa is reported (RasaUnavailable, never a hang)."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web

from bot.hub.rasa_client import WEBHOOK, RasaClient, RasaUnavailable, customer_text, replies_after
from tests.bot.hub.conftest import free_port

TOKEN = "hub-to-rasa-token-0123456789"


@pytest.fixture
async def fake_rasa():
    seen = {"messages": [], "events": [], "auth": []}
    behaviour = {"delay": 0.0, "status": 200}

    async def webhook(request):
        await asyncio.sleep(behaviour["delay"])
        if behaviour["status"] != 200:
            return web.Response(status=behaviour["status"])
        body = await request.json()
        seen["messages"].append(body)
        seen["auth"].append(("webhook", request.headers.get("Authorization"), request.query.get("token")))
        return web.json_response([{"recipient_id": body["sender"], "text": "hi"}])

    async def events(request):
        seen["events"].append((request.match_info["sender"], await request.json()))
        seen["auth"].append(("events", request.headers.get("Authorization"), request.query.get("token")))
        return web.json_response({})

    app = web.Application()
    app.router.add_post(WEBHOOK, webhook)
    app.router.add_post("/conversations/{sender}/tracker/events", events)
    app.router.add_get("/status", lambda request: web.json_response({"model_file": "x"}))
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    client = RasaClient(f"http://127.0.0.1:{port}", timeout_seconds=0.5, token=TOKEN)
    yield client, seen, behaviour
    await client.close()
    await runner.cleanup()


async def test_send_posts_the_message_with_metadata(fake_rasa):
    client, seen, _ = fake_rasa
    replies = await client.send("c1", "hello", {"channel": "web", "hub_message_id": 7})
    assert replies == [{"recipient_id": "c1", "text": "hi"}]
    assert seen["messages"] == [{"sender": "c1", "message": "hello", "metadata": {"channel": "web", "hub_message_id": 7}}]
    assert await client.healthy() is True


async def test_resume_appends_resume_and_listen(fake_rasa):
    client, seen, _ = fake_rasa
    await client.resume("c1")
    assert seen["events"] == [("c1", [{"event": "resume"}, {"event": "action", "name": "action_listen"}])]


async def test_every_call_carries_the_token(fake_rasa):
    # The webhook (the hub's channel) takes it as a bearer header, the HTTP API as ?token=.
    client, seen, _ = fake_rasa
    await client.send("c1", "hello", {})
    await client.pause("c1")
    assert seen["auth"] == [("webhook", f"Bearer {TOKEN}", None), ("events", f"Bearer {TOKEN}", TOKEN)]


@pytest.mark.parametrize("typed, sent", [
    ('/provide_identifier{"customer_id": 4}', 'provide_identifier{"customer_id": 4}'),
    ("  //affirm@1.0", "affirm@1.0"),
    ("/restart", "restart"),
    ("what is 1/2 of my bill", "what is 1/2 of my bill"),
])
async def test_customers_cannot_use_rasas_intent_shortcut(fake_rasa, typed, sent):
    client, seen, _ = fake_rasa
    await client.send("c1", typed, {})
    assert seen["messages"][-1]["message"] == sent
    assert customer_text(typed) == sent


async def test_a_slow_rasa_times_out(fake_rasa):
    client, _, behaviour = fake_rasa
    behaviour["delay"] = 2.0
    with pytest.raises(RasaUnavailable):
        await client.send("c1", "hello", {})


async def test_a_failing_rasa_is_unavailable(fake_rasa):
    client, _, behaviour = fake_rasa
    behaviour["status"] = 500
    with pytest.raises(RasaUnavailable, match="500"):
        await client.send("c1", "hello", {})


async def test_an_absent_rasa_is_unavailable():
    client = RasaClient(f"http://127.0.0.1:{free_port()}", timeout_seconds=2)
    with pytest.raises(RasaUnavailable):
        await client.send("c1", "hello", {})
    assert await client.healthy() is False
    await client.close()


def test_replies_after_finds_the_answer_to_one_message():
    events = [
        {"event": "user", "text": "yes", "metadata": {"hub_message_id": 1}},
        {"event": "bot", "text": "first answer"},
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "yes", "metadata": {"hub_message_id": 2}},
        {"event": "bot", "text": "Pick one", "data": {"buttons": [{"title": "A", "payload": "/a"}]}},
        {"event": "bot", "data": {"custom": {"handoff": {"reason": "anger"}}}},
        {"event": "user", "text": "later", "metadata": {"hub_message_id": 3}},
        {"event": "bot", "text": "not this one"},
    ]
    assert replies_after(events, 2) == [
        {"text": "Pick one", "buttons": [{"title": "A", "payload": "/a"}]},
        {"custom": {"handoff": {"reason": "anger"}}},
    ]
    assert replies_after(events, 99) is None
