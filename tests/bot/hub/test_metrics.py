"""The hub's Prometheus endpoint: who may scrape it, and counters that move with real traffic."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import aiohttp
import pytest
from aiohttp.test_utils import make_mocked_request
from prometheus_client.parser import text_string_to_metric_families

from bot.db import session_scope
from bot.demo import agents as hub_seed
from bot.hub.metrics import may_scrape
from tests.bot.hub.conftest import PASSWORD, clear_hub_tables, start_hub
from tests.bot.hub.fakes import ScriptedRasa, handoff_reply
from tests.hub_clients import eventually

TOKEN = "metrics-token-for-tests-0123456789"


def reply(text: str):
    return handoff_reply("asked_for_person", 2) if "person" in text else [{"text": f"bot: {text}"}]


@pytest.fixture
async def hub(any_db, monkeypatch):
    from tests.conftest import use_settings

    use_settings(monkeypatch, database_url=any_db, hub_metrics_token=TOKEN)
    await clear_hub_tables()
    async with session_scope() as session:
        await hub_seed.seed_hub(session, PASSWORD, dt.datetime.now(dt.timezone.utc))
    running = await start_hub(ScriptedRasa(reply))
    yield running
    await running.runner.cleanup()


async def scrape(url: str, **headers: str) -> tuple:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{url}/metrics", headers=headers) as response:
            return response.status, await response.text()


def sample(text: str, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    return 0.0


async def test_counters_and_gauges_move_with_a_conversation(hub):
    status, before = await scrape(hub.url)
    assert status == 200
    customer = await hub.customer()
    try:
        await customer.say("what do I owe")
        await eventually(lambda: any(t.startswith("bot:") for t in customer.texts()))
        await customer.say("I want a person")
        await hub.router.drain()
    finally:
        await customer.close()
    _, after = await scrape(hub.url)
    messages_in = 'bot_hub_messages_total'
    assert sample(after, messages_in, direction="in", channel="web") == sample(before, messages_in, direction="in", channel="web") + 2
    # The bot's answer, the handoff's apology and the queue notice went out.
    assert sample(after, messages_in, direction="out", channel="web") >= sample(before, messages_in, direction="out", channel="web") + 3
    assert sample(after, "bot_hub_rasa_seconds_count") == sample(before, "bot_hub_rasa_seconds_count") + 2
    assert sample(after, "bot_hub_handoffs_total", reason="asked_for_person") == sample(
        before, "bot_hub_handoffs_total", reason="asked_for_person") + 1
    assert sample(after, "bot_hub_queue_length") == 1  # this test's conversation, waiting
    assert "bot_hub_outbox_backlog" in after and "bot_hub_errors" in after


async def test_behind_a_proxy_only_the_token_opens_it(hub):
    # A reverse proxy on loopback forwards outside clients: their requests carry X-Forwarded-For.
    status, body = await scrape(hub.url, **{"X-Forwarded-For": "203.0.113.9"})
    assert status == 401 and "BOT_HUB_METRICS_TOKEN" in body and "bot_hub_messages" not in body
    status, _ = await scrape(hub.url, **{"X-Forwarded-For": "203.0.113.9", "Authorization": "Bearer wrong-token-000000000"})
    assert status == 401
    status, body = await scrape(hub.url, **{"X-Forwarded-For": "203.0.113.9", "Authorization": f"Bearer {TOKEN}"})
    assert status == 200 and "bot_hub_queue_length" in body


def _request_from(address: str, **headers: str):
    transport = mock.Mock()
    transport.get_extra_info.side_effect = lambda name, default=None: (address, 40000) if name == "peername" else default
    return make_mocked_request("GET", "/metrics", headers=headers, transport=transport)


def test_other_hosts_need_the_token():
    assert not may_scrape(_request_from("10.1.2.3"), TOKEN)
    assert not may_scrape(_request_from("10.1.2.3"), "")  # no token configured: loopback only
    assert may_scrape(_request_from("10.1.2.3", Authorization=f"Bearer {TOKEN}"), TOKEN)
    assert not may_scrape(_request_from("10.1.2.3", Authorization="Bearer "), "")
    assert may_scrape(_request_from("127.0.0.1"), "") and may_scrape(_request_from("::1"), "")
