"""Abuse limits on the widget socket, against the real hub: a client over a limit
gets a clear error, nothing it sent over the limit is stored or answered, and the
hub keeps serving everyone else."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
import socketio
from sqlalchemy import func, select

from bot.conversations.models import Message
from bot.db import session_scope
from bot.demo import agents as hub_seed
from tests.bot.hub.conftest import PASSWORD, clear_hub_tables, start_hub
from tests.bot.hub.fakes import ScriptedRasa
from tests.hub_clients import Customer, eventually


@pytest.fixture
async def strict_hub(sqlite_db, monkeypatch):
    from tests.conftest import use_settings

    use_settings(monkeypatch, database_url=sqlite_db, widget_message_burst="3", widget_messages_per_minute="1",
                 widget_connections_per_ip="3", widget_sessions_per_ip_per_hour="4",
                 widget_history_requests_per_minute="2", widget_history_limit="2")
    await clear_hub_tables()
    async with session_scope() as session:
        await hub_seed.seed_hub(session, PASSWORD, dt.datetime.now(dt.timezone.utc))
    hub = await start_hub(ScriptedRasa())
    yield hub
    await hub.runner.cleanup()


async def stored_customer_messages() -> int:
    async with session_scope() as session:
        return await session.scalar(select(func.count()).select_from(Message).where(Message.sender == "customer"))


async def test_a_flood_of_messages_is_refused_after_the_burst(strict_hub):
    customer = await strict_hub.customer()
    results = [await customer.say(f"message {n}") for n in range(5)]
    assert [r["ok"] for r in results] == [True, True, True, False, False]
    assert "too quickly" in results[3]["error"]
    await eventually(lambda: any("too quickly" in (t or "") for t in customer.texts()))
    assert await stored_customer_messages() == 3
    await eventually(lambda: len(strict_hub.rasa.received) == 3)
    # Another customer is not slowed down by the first.
    other = await strict_hub.customer()
    assert (await other.say("hello"))["ok"] is True
    await customer.close()
    await other.close()


async def test_a_second_tab_shares_its_sessions_limit(strict_hub):
    first = await strict_hub.customer()
    second = await strict_hub.customer(first.session_id)
    assert [(await first.say("a"))["ok"], (await second.say("b"))["ok"], (await first.say("c"))["ok"]] == [True] * 3
    assert (await second.say("d"))["ok"] is False
    await first.close()
    await second.close()


async def test_connections_per_address_are_capped(strict_hub):
    customers = [await strict_hub.customer() for _ in range(3)]
    extra = socketio.AsyncClient(reconnection=False)
    errors = []
    extra.on("connect_error", errors.append)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await extra.connect(strict_hub.url, socketio_path="socket.io", transports=["websocket"])
    assert "too many open chat connections" in str(errors)
    await customers[0].close()
    await asyncio.sleep(0.2)  # the hub sees the disconnect
    again = await strict_hub.customer()  # a place was freed
    assert (await again.say("back"))["ok"] is True
    for customer in customers[1:] + [again]:
        await customer.close()


async def test_new_sessions_per_address_are_capped_but_stored_ones_continue(strict_hub):
    first = await strict_hub.customer()
    for _ in range(3):
        await (await strict_hub.customer()).close()
    await asyncio.sleep(0.2)
    # The fifth new session in the hour: no session is confirmed, the client hears why.
    blocked = Customer(socketio.AsyncClient(reconnection=False))
    await blocked.client.connect(strict_hub.url, socketio_path="socket.io", transports=["websocket"])
    await blocked.client.emit("session_request", {})
    await eventually(lambda: any("too many new chats" in (t or "") for t in blocked.texts()))
    assert (await blocked.client.call("user_uttered", {"message": "hi"}, timeout=5))["ok"] is False
    await blocked.close()
    # A customer coming back to a session they already have is not a new chat.
    back = await strict_hub.customer(first.session_id)
    assert back.session_id == first.session_id
    await first.close()
    await back.close()


async def test_history_is_bounded_in_size_and_rate(strict_hub):
    customer = await strict_hub.customer()
    for n in range(3):
        assert (await customer.say(f"m{n}"))["ok"] is True
    await eventually(lambda: len(strict_hub.rasa.received) == 3)
    replies = []
    customer.client.on("history", replies.append)
    for _ in range(3):
        await customer.client.emit("history_request", {"session_id": customer.session_id})
    await eventually(lambda: len(replies) == 3)
    # Answers may arrive in any order: two with the latest two messages only, one refused.
    served = sorted((r.get("error", ""), len(r["messages"])) for r in replies)
    assert served[:2] == [("", 2), ("", 2)]
    assert "too many history requests" in served[2][0] and served[2][1] == 0
    await customer.close()
