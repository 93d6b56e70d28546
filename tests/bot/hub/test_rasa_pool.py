"""The pool of Rasa servers against real HTTP servers standing in for Rasa: each conversation
stays on one server while it is up, moves to the next when that one refuses connections, and is
not sent twice when a server fails in the middle of a call."""

from __future__ import annotations

import collections

import pytest
from aiohttp import web

from bot.hub.rasa_client import WEBHOOK, RasaClient, RasaUnavailable
from bot.hub.rasa_pool import RasaPool, rank
from tests.bot.hub.conftest import free_port


class FakeRasa:
    def __init__(self, name: str) -> None:
        self.name, self.port, self.received, self.status = name, free_port(), [], 200
        self.runner = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        async def webhook(request):
            body = await request.json()
            if self.status != 200:
                return web.Response(status=self.status)
            self.received.append(body["sender"])
            return web.json_response([{"recipient_id": body["sender"], "text": f"from {self.name}"}])

        app = web.Application()
        app.router.add_post(WEBHOOK, webhook)
        app.router.add_get("/status", lambda request: web.json_response({}))
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        await self.runner.cleanup()


@pytest.fixture
async def two_servers():
    servers = [FakeRasa("a"), FakeRasa("b")]
    for server in servers:
        await server.start()
    clock = [0.0]
    pool = RasaPool([RasaClient(s.url, 2) for s in servers], down_seconds=5, clock=lambda: clock[0])
    yield servers, pool, clock
    await pool.close()
    for server in servers:
        if server.runner is not None:
            await server.runner.cleanup()


def test_rank_is_stable_and_spreads_conversations():
    urls = ["http://r1:5005", "http://r2:5005", "http://r3:5005"]
    firsts = collections.Counter(rank(urls, f"conversation-{i}")[0] for i in range(3000))
    assert rank(urls, "c-1") == rank(list(reversed(urls)), "c-1")  # the configured order does not matter
    assert all(800 < firsts[url] < 1200 for url in urls), firsts
    # Losing a server moves only its own conversations.
    moved = sum(rank(urls, f"c{i}")[0] != rank(urls[:2], f"c{i}")[0] for i in range(3000))
    assert moved == sum(rank(urls, f"c{i}")[0] == urls[2] for i in range(3000))


async def test_a_conversation_stays_on_one_server(two_servers):
    servers, pool, _ = two_servers
    answered_by = {(await pool.send("conv-1", f"message {i}", {}))[0]["text"] for i in range(20)}
    assert len(answered_by) == 1
    by_server = [s.received.count("conv-1") for s in servers]
    assert sorted(by_server) == [0, 20]
    for i in range(40):
        await pool.send(f"other-{i}", "hello", {})
    assert all(s.received for s in servers), "conversations are spread over both servers"


async def test_a_refused_connection_moves_the_conversation_and_it_comes_back(two_servers):
    servers, pool, clock = two_servers
    home = next(s for s in servers if s.url == pool.order("conv-2")[0].base_url)
    other = next(s for s in servers if s is not home)
    await home.stop()
    home.runner = None
    replies = await pool.send("conv-2", "is anyone there", {})
    assert replies == [{"recipient_id": "conv-2", "text": f"from {other.name}"}]
    assert pool.order("conv-2")[0].base_url == other.url  # tried last while it is down
    await home.start()
    clock[0] += 6  # after down_seconds the home server is first again
    await pool.send("conv-2", "back again", {})
    assert home.received == ["conv-2"]
    assert await pool.healthy() is True


async def test_a_failure_inside_a_call_is_not_sent_to_another_server(two_servers):
    servers, pool, _ = two_servers
    home = next(s for s in servers if s.url == pool.order("conv-3")[0].base_url)
    other = next(s for s in servers if s is not home)
    home.status = 500  # the server took the request and failed: it may have processed it
    with pytest.raises(RasaUnavailable):
        await pool.send("conv-3", "pay my bill", {})
    assert other.received == [], "not re-sent elsewhere: the hub's retry checks the tracker first"


async def test_no_server_up_is_rasa_unavailable(two_servers):
    servers, pool, _ = two_servers
    for server in servers:
        await server.stop()
        server.runner = None
    with pytest.raises(RasaUnavailable, match="no Rasa server answered"):
        await pool.send("conv-4", "hello", {})
    assert await pool.healthy() is False


def test_a_pool_needs_a_server():
    with pytest.raises(ValueError):
        RasaPool([])
