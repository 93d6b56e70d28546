"""The Rasa client against a real HTTP server standing in for Rasa: what it sends,
and how a slow, failing or absent Rasa is reported (RasaUnavailable, never a hang)."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web

from bot.hub.rasa_client import RasaClient, RasaUnavailable, replies_after
from tests.bot.hub.conftest import free_port


@pytest.fixture
async def fake_rasa():
    seen = {"messages": [], "events": []}
    behaviour = {"delay": 0.0, "status": 200}

    async def webhook(request):
        await asyncio.sleep(behaviour["delay"])
        if behaviour["status"] != 200:
            return web.Response(status=behaviour["status"])
        body = await request.json()
        seen["messages"].append(body)
        return web.json_response([{"recipient_id": body["sender"], "text": "hi"}])

    async def events(request):
        seen["events"].append((request.match_info["sender"], await request.json()))
        return web.json_response({})

    app = web.Application()
    app.router.add_post("/webhooks/rest/webhook", webhook)
    app.router.add_post("/conversations/{sender}/tracker/events", events)
    app.router.add_get("/status", lambda request: web.json_response({"model_file": "x"}))
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    client = RasaClient(f"http://127.0.0.1:{port}", timeout_seconds=0.5)
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
