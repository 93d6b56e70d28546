"""The running hub over real sockets and HTTP: the widget protocol, the console
API and socket, sign-in, bad input, and a restart that loses nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any, Dict, List

import aiohttp
import pytest
import socketio
from sqlalchemy import update

from bot.config import get_settings
from bot.conversations.models import AgentSession
from bot.db import session_scope
from bot.hub.app import OPENAPI_DOC
from tests.bot.hub.conftest import PASSWORD, free_port, start_hub
from tests.bot.hub.fakes import handoff_reply
from tests.hub_clients import console_socket, eventually


async def test_health_reports_database_and_rasa(running_hub):
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{running_hub.url}/health") as response:
            assert (response.status, await response.json()) == (200, {"status": "ok", "database": "ok", "rasa": "up"})
        running_hub.rasa.down = True
        async with http.get(f"{running_hub.url}/health") as response:
            assert (await response.json())["rasa"] == "down"


async def test_pages_are_served_with_a_script_policy(running_hub):
    async with aiohttp.ClientSession() as http:
        for path in ("/", "/console"):
            async with http.get(f"{running_hub.url}{path}") as response:
                assert response.status == 200
                assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        async with http.get(f"{running_hub.url}/widget.js") as response:
            assert response.status == 200
            assert response.headers["Access-Control-Allow-Origin"] == "*"
        async with http.get(f"{running_hub.url}/api/openapi.json") as response:
            spec = await response.json()
            assert "/api/conversations/{id}/take" in spec["paths"]


async def test_widget_session_chat_and_persistence(running_hub):
    customer = await running_hub.customer()
    assert len(customer.session_id) >= 8
    ack = await customer.say("what do I owe", message_id="m-1")
    assert ack == {"ok": True, "message_id": "m-1", "duplicate": False}
    await eventually(lambda: customer.texts() == ["bot: what do I owe"])
    reply = customer.received[0]
    assert reply["metadata"]["from"] == "bot"
    assert {"active": True, "from": "bot"} in customer.typing
    # The same message again (a retry after a lost ack) is not stored or answered twice.
    assert (await customer.say("what do I owe", message_id="m-1"))["duplicate"] is True
    await customer.close()

    # A page reload: the stored session id continues the conversation, history included.
    again = await running_hub.customer(customer.session_id)
    assert again.session_id == customer.session_id
    await again.client.emit("history_request", {"session_id": again.session_id})
    history = await eventually(lambda: again.history)
    assert [(m["from"], m["text"]) for m in history] == [("customer", "what do I owe"), ("bot", "bot: what do I owe")]
    await again.close()
    assert len(running_hub.rasa.received) == 1


async def test_a_new_session_id_is_issued_for_a_bad_one(running_hub):
    customer = await running_hub.customer("../../etc/passwd")
    assert customer.session_id != "../../etc/passwd"
    await customer.close()


async def test_malformed_and_oversized_socket_messages_get_clear_errors(running_hub):
    customer = await running_hub.customer()
    too_long = "x" * (get_settings().hub.max_message_chars + 1)
    assert (await customer.client.call("user_uttered", "just a string", timeout=5))["ok"] is False
    assert (await customer.say(None))["error"] == "a message must be text"
    assert (await customer.say("   "))["error"] == "the message is empty"
    assert "too long" in (await customer.say(too_long))["error"]
    other = await customer.client.call("user_uttered", {"message": "hi", "session_id": "someone-elses-session"}, timeout=5)
    assert other == {"ok": False, "error": "the message names a different session"}
    # Widgets without acks still hear why.
    await eventually(lambda: any("couldn't take that message" in (t or "") for t in customer.texts()))
    assert running_hub.rasa.received == []

    # A frame larger than the hub accepts closes that socket, and only that socket.
    await customer.client.emit("user_uttered", {"message": "y" * (get_settings().hub.max_body_bytes + 10),
                                                "session_id": customer.session_id})
    await eventually(lambda: not customer.client.connected)
    fresh = await running_hub.customer()
    assert (await fresh.say("still here?"))["ok"] is True
    await fresh.close()


async def test_every_console_route_refuses_unauthenticated_calls(running_hub):
    spec = running_hub.app[OPENAPI_DOC]
    async with aiohttp.ClientSession() as http:
        checked = 0
        for path, operations in spec["paths"].items():
            if not path.startswith("/api/") or path in ("/api/auth/login", "/api/openapi.json"):
                continue
            for method in [m for m in operations if m != "parameters"]:
                url = running_hub.url + path.replace("{id}", "abc")
                async with http.request(method.upper(), url, json={}) as response:
                    assert response.status == 401, (method, path)
                    assert await response.json() == {"error": "sign in first"}
                checked += 1
        assert checked >= 12
        # A forged or expired cookie is no better.
        async with http.get(f"{running_hub.url}/api/queue", headers={"Cookie": "bot_console=forged"}) as response:
            assert response.status == 401


async def test_sign_in_rejects_bad_credentials_and_bad_bodies(running_hub):
    async with aiohttp.ClientSession() as http:
        url = f"{running_hub.url}/api/auth/login"
        async with http.post(url, json={"email": "alex@northwind.example", "password": "wrong"}) as response:
            assert (response.status, await response.json()) == (401, {"error": "wrong email or password"})
        async with http.post(url, json={"email": "nobody@example.com", "password": PASSWORD}) as response:
            assert response.status == 401
        async with http.post(url, data="email=a&password=b") as response:
            assert response.status == 415
        async with http.post(url, data="{not json", headers={"Content-Type": "application/json"}) as response:
            assert (response.status, await response.json()) == (400, {"error": "the body is not valid JSON"})
        async with http.post(url, json={"email": "x", "password": "y" * (get_settings().hub.max_body_bytes + 1)}) as response:
            assert (response.status, await response.json()) == (413, {"error": "the request body is too large"})


async def test_repeated_wrong_passwords_are_throttled(running_hub):
    async with aiohttp.ClientSession() as http:
        url = f"{running_hub.url}/api/auth/login"
        for _ in range(5):
            async with http.post(url, json={"email": "sam@northwind.example", "password": "guess"}) as response:
                assert response.status == 401
        async with http.post(url, json={"email": "sam@northwind.example", "password": PASSWORD}) as response:
            assert response.status == 429  # even the right password waits now
            assert int(response.headers["Retry-After"]) > 0
            assert "too many failed sign-ins" in (await response.json())["error"]
        async with http.post(url, json={"email": "alex@northwind.example", "password": PASSWORD}) as response:
            assert response.status == 200  # other agents are not locked out


async def test_sessions_expire(running_hub):
    http = await running_hub.login()
    async with session_scope() as session:
        await session.execute(update(AgentSession).values(expires_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)))
    async with http.get("/api/me") as response:
        assert response.status == 401
    await http.close()


async def test_console_journey_take_reply_hand_back(running_hub):
    rasa = running_hub.rasa
    rasa.reply = lambda text: handoff_reply("anger", 1) if "furious" in text else [{"text": f"bot: {text}"}]
    alex = await running_hub.login()
    sam = await running_hub.login("sam@northwind.example")

    # Alex's console socket receives the queue live.
    events = {"queue": [], "message": []}
    console = await console_socket(running_hub.url, alex, events)
    message_events = events["message"]

    customer = await running_hub.customer()
    await customer.say("I'm furious, this is the third time")
    latest_queue = await eventually(lambda: events["queue"] and events["queue"][-1]["queue"])
    cid = latest_queue[0]["conversation_id"]
    assert latest_queue[0]["reason"] == "anger"
    await eventually(lambda: any("in the queue" in (t or "") for t in customer.texts()))

    async with alex.get("/api/queue") as response:
        assert [item["conversation_id"] for item in (await response.json())["queue"]] == [cid]
    async with alex.post(f"/api/conversations/{cid}/take") as response:
        assert response.status == 200
        assert (await response.json())["conversation"]["status"] == "assigned"
    async with sam.post(f"/api/conversations/{cid}/take") as response:
        assert (response.status, await response.json()) == (409, {"error": "already taken by Alex Morgan"})
    async with sam.post(f"/api/conversations/{cid}/messages", json={"text": "Sam here"}) as response:
        assert response.status == 409

    async with alex.post(f"/api/conversations/{cid}/messages", json={"text": "Hi, I'm Alex. I'll sort this out."}) as response:
        assert response.status == 201
    await eventually(lambda: "Hi, I'm Alex. I'll sort this out." in customer.texts())
    agent_message = [m for m in customer.received if m.get("text") == "Hi, I'm Alex. I'll sort this out."][0]
    assert agent_message["metadata"]["from"] == "agent"
    assert agent_message["metadata"]["agent_name"] == "Alex Morgan"

    await customer.say("thanks, it's invoice INV-20015")
    await eventually(lambda: any(e["message"]["text"] == "thanks, it's invoice INV-20015" for e in message_events))

    async with alex.post(f"/api/conversations/{cid}/notes", json={"text": "Customer called twice before."}) as response:
        assert response.status == 201
    async with alex.get(f"/api/conversations/{cid}") as response:
        detail = await response.json()
    assert detail["handoff"]["reason"] == "anger"
    assert detail["handoff"]["summary"]["sentiment_trail"] == [{"label": "negative", "score": 0.97}]
    assert [n["text"] for n in detail["notes"]] == ["Customer called twice before."]
    assert "Customer called twice before." not in customer.texts()  # notes stay private
    async with alex.get(f"/api/conversations/{cid}/customer") as response:
        assert await response.json() == {"customer": None}  # not verified
    async with alex.get("/api/canned-replies") as response:
        assert len((await response.json())["canned_replies"]) >= 5

    async with alex.post(f"/api/conversations/{cid}/handback") as response:
        assert response.status == 200
    assert rasa.events == [(cid, "resume")]
    await customer.say("what do I owe")
    await eventually(lambda: "bot: what do I owe" in customer.texts())

    async with alex.get("/api/conversations/nope") as response:
        assert (response.status, await response.json()) == (404, {"error": "no such conversation"})
    await console.disconnect()
    await customer.close()
    await alex.close()
    await sam.close()


async def test_console_socket_refuses_without_a_session(running_hub):
    console = socketio.AsyncClient(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await console.connect(running_hub.url, namespaces=["/console"], transports=["websocket"],
                              socketio_path="socket.io", wait_timeout=5)
    alex = await running_hub.login()
    cookie = "; ".join(f"{c.key}={c.value}" for c in alex.cookie_jar)
    with pytest.raises(socketio.exceptions.ConnectionError):  # a page of another site
        await console.connect(running_hub.url, headers={"Cookie": cookie, "Origin": "http://evil.example"},
                              namespaces=["/console"], transports=["websocket"], socketio_path="socket.io",
                              wait_timeout=5)
    await alex.close()


async def test_markup_is_stored_and_relayed_as_plain_text(running_hub):
    running_hub.rasa.reply = lambda text: handoff_reply()
    customer = await running_hub.customer()
    attack = '<img src=x onerror="alert(1)"><script>alert(2)</script>'
    await customer.say(attack)
    await eventually(lambda: any("in the queue" in (t or "") for t in customer.texts()))
    alex = await running_hub.login()
    async with alex.get("/api/queue") as response:
        item = (await response.json())["queue"][0]
    assert item["preview"] == attack  # JSON text; the console renders it with textContent
    await customer.close()
    await alex.close()


async def test_presence_and_logout(running_hub):
    alex = await running_hub.login()
    async with alex.put("/api/me/presence", json={"presence": "away"}) as response:
        assert (await response.json())["agent"]["presence"] == "away"
    async with alex.put("/api/me/presence", json={"presence": "asleep"}) as response:
        assert response.status == 400
    async with alex.post("/api/auth/logout") as response:
        assert response.status == 204
    async with alex.get("/api/me") as response:
        assert response.status == 401
    await alex.close()


async def test_rasa_down_then_back_answers_the_kept_message(running_hub):
    running_hub.rasa.down = True
    customer = await running_hub.customer()
    await customer.say("what do I owe")
    await eventually(lambda: any("Your message is saved" in (t or "") for t in customer.texts()))
    running_hub.rasa.down = False
    await eventually(lambda: "bot: what do I owe" in customer.texts())  # the retry loop runs every 0.2 s
    await customer.close()


async def test_a_restart_keeps_open_conversations_and_the_queue(running_hub):
    running_hub.rasa.reply = lambda text: handoff_reply("dispute", 2)
    customer = await running_hub.customer()
    await customer.say("I dispute this charge", message_id="a-1")
    await eventually(lambda: any("in the queue" in (t or "") for t in customer.texts()))
    session_id = customer.session_id
    await customer.close()
    port = int(running_hub.url.rsplit(":", 1)[1])
    await running_hub.runner.cleanup()

    restarted = await start_hub(running_hub.rasa, port)
    try:
        alex = await restarted.login()
        async with alex.get("/api/queue") as response:
            queue = (await response.json())["queue"]
        assert [item["reason"] for item in queue] == ["dispute"]
        back = await restarted.customer(session_id)
        ack = await back.say("I dispute this charge", message_id="a-1")  # re-sent after the restart
        assert ack["duplicate"] is True
        await back.say("are you there?")
        cid = queue[0]["conversation_id"]
        async with alex.get(f"/api/conversations/{cid}") as response:
            texts = [m["text"] for m in (await response.json())["messages"] if m["from"] == "customer"]
        assert texts == ["I dispute this charge", "are you there?"]
        await back.close()
        await alex.close()
    finally:
        await restarted.runner.cleanup()
        running_hub.runner = restarted.runner


async def taken_on_the_other_hub(first, second):
    """A customer on ``first`` asks for a person; an agent signed in on ``second`` takes the conversation."""
    customer = await first.customer()
    await customer.say("I want a person")
    await eventually(lambda: any("in the queue" in (t or "") for t in customer.texts()))
    agent = await second.login()
    async with agent.get("/api/queue") as response:
        cid = (await response.json())["queue"][0]["conversation_id"]
    async with agent.post(f"/api/conversations/{cid}/take") as response:
        assert response.status == 200
    return customer, agent, cid


@pytest.mark.redis
async def test_two_hubs_share_customers_and_agents_through_redis(running_hub, monkeypatch):
    """Scale path: a customer on one hub process hears an agent who acts on another."""
    from tests.conftest import use_settings

    await running_hub.runner.cleanup()  # the single-process hub is not needed here
    use_settings(monkeypatch, database_url=running_hub.router.db_url, hub_redis_url="redis://127.0.0.1:6379/0")
    running_hub.rasa.reply = lambda text: handoff_reply("asked_for_person", 2)
    first, second = await start_hub(running_hub.rasa), await start_hub(running_hub.rasa)
    try:
        customer, agent, cid = await taken_on_the_other_hub(first, second)
        async with agent.post(f"/api/conversations/{cid}/messages", json={"text": "From the other hub"}) as response:
            assert response.status == 201
        await eventually(lambda: "From the other hub" in customer.texts())
        await customer.close()
        await agent.close()
    finally:
        await first.runner.cleanup()
        await second.runner.cleanup()
        running_hub.runner = first.runner


@pytest.mark.redis
async def test_after_redis_comes_back_each_widget_gets_the_history_it_missed(running_hub, monkeypatch):
    """Redis keeps nothing: an agent's message sent on another hub while Redis is away (or before the
    customer's hub listens again) never reaches the customer live. Once its hub listens again, it
    sends each of its widgets the history, as after a reconnection, and tells each of its consoles
    to load everything again."""
    from tests.conftest import use_settings
    from tests.private_services import PrivateRedis

    await running_hub.runner.cleanup()
    redis = PrivateRedis(free_port())  # its own: the test stops it
    redis.start()
    use_settings(monkeypatch, database_url=running_hub.router.db_url, hub_redis_url=f"{redis.url}/0")
    running_hub.rasa.reply = lambda text: handoff_reply("asked_for_person", 2)
    first, second = await start_hub(running_hub.rasa), await start_hub(running_hub.rasa)
    try:
        customer, agent, cid = await taken_on_the_other_hub(first, second)
        colleague = await first.login("sam@northwind.example")
        console_events: Dict[str, List[Any]] = {"resync": [], "message": []}
        console = await console_socket(first.url, colleague, console_events)
        redis.stop()
        async with agent.post(f"/api/conversations/{cid}/messages", json={"text": "While Redis is away"}) as response:
            assert response.status == 201
        redis.start()
        await eventually(lambda: customer.history and "While Redis is away" in [m["text"] for m in customer.history], 30)
        assert "While Redis is away" not in customer.texts()  # not live: from the history
        # The colleague's console on the customer's hub missed it live too, and is told to reload.
        await eventually(lambda: console_events["resync"], 30)
        assert "While Redis is away" not in [m["message"]["text"] for m in console_events["message"]]
        await console.disconnect()
        await colleague.close()
        await customer.close()
        await agent.close()
    finally:
        await first.runner.cleanup()
        await second.runner.cleanup()
        running_hub.runner = first.runner
        redis.close()
