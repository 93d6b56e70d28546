"""Scale-out on real PostgreSQL and Redis: two hub processes and two Rasa servers (one action
server), configured by settings alone (BOT_RASA_URLS, BOT_RASA_TRACKER_STORE_URL,
BOT_RASA_LOCK_STORE_URL, BOT_HUB_REDIS_URL, a PostgreSQL BOT_DATABASE_URL).

PostgreSQL and Redis are the test's own (tests/private_services.py), so it can restart them.
A conversation with an agent, customer on hub 1 and agent on hub 2, through a stop and start of
Redis (the message the agent sends meanwhile is stored and in the history; the hubs listen again
and the next one is heard live) and a restart of PostgreSQL (pools, advisory locks and Rasa's
tracker store reconnect). Then one conversation, customer on hub 1 and agent on hub 2, through:
- kill -9 of the Rasa server holding the conversation (mid-verification): the next message is
  answered by the other Rasa server, which continues the form from the shared tracker store;
- an escalation the agent on hub 2 sees, takes and answers, heard by the customer on hub 1;
- kill -9 of hub 1 while it holds an unanswered message (the Rasa server it asked is stopped):
  the customer reconnects to hub 2, which picks the message up and answers it once.
Nothing is lost: every customer message is stored once and answered, no reply is doubled.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from typing import Dict, Iterator, List, Optional

import aiohttp
import pytest
import sqlalchemy as sa

from bot import config
from bot.conversations import store
from bot.db import dispose_engines, session_scope
from bot.hub.rasa_pool import rank
from bot.training import MODEL_PATH
from tests.conftest import ITERATIONS, TODAY, _seed_database
from tests.hub_clients import Customer, bot_texts, console_socket, eventually, until_reply
from tests.private_services import PrivatePostgres, PrivateRedis
from tests.servers import _OFFSET, AGENT_PASSWORD, _seed_agents

pytestmark = [pytest.mark.e2e, pytest.mark.model, pytest.mark.postgres, pytest.mark.redis]

ACTION_PORT, RASA_PORTS, HUB_PORTS = 5255 + _OFFSET, (5205 + _OFFSET, 5206 + _OFFSET), (8205 + _OFFSET, 8206 + _OFFSET)
PG_PORT, REDIS_PORT = 5439 + _OFFSET, 6389 + _OFFSET


def _create_database(admin_url: str, name: str) -> str:
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


def _wait_healthy(url: str, process: subprocess.Popen, timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} did not become healthy within {timeout:.0f}s")


class Cluster:
    def __init__(self, env: Dict[str, str], work, hub_db: str, postgres: PrivatePostgres,
                 redis: PrivateRedis) -> None:
        self.env, self.work, self.hub_db, self.postgres, self.redis = env, work, hub_db, postgres, redis
        self.processes: Dict[str, subprocess.Popen] = {}
        self.rasa_urls = [f"http://127.0.0.1:{port}" for port in RASA_PORTS]
        self.hub_urls = [f"http://127.0.0.1:{port}" for port in HUB_PORTS]

    def spawn(self, name: str, command: List[str], **env: str) -> subprocess.Popen:
        with open(self.work / f"{name}.log", "ab") as log:  # the child keeps its own copy
            process = subprocess.Popen(
                [sys.executable, *command], env={**self.env, **env}, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.processes[name] = process
        return process

    def kill9(self, name: str) -> None:
        process = self.processes[name]
        os.kill(process.pid, signal.SIGKILL)
        process.wait(10)

    def signal(self, name: str, sig: int) -> None:
        os.kill(self.processes[name].pid, sig)

    def close(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.kill(process.pid, signal.SIGCONT)
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> Iterator[Cluster]:
    assert MODEL_PATH.exists(), "bin/setup trains the model before the tests"
    work = tmp_path_factory.mktemp("scale-out")
    # PostgreSQL and Redis of the test's own: it restarts them.
    postgres, redis = PrivatePostgres(PG_PORT), PrivateRedis(REDIS_PORT)
    processes: Optional[Cluster] = None
    try:
        postgres.start()
        redis.start()
        hub_db, rasa_db = _create_database(postgres.url, "bot"), _create_database(postgres.url, "rasa")
        _seed_database(hub_db)
        asyncio.run(_seed_agents(config.async_database_url(hub_db)))
        endpoints = work / "endpoints.yml"  # its SQLite store is replaced by the shared ones in the settings
        endpoints.write_text(f'tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: "{work / "unused.db"}"\n')
        env = {
            **os.environ,
            "BOT_DATABASE_URL": config.async_database_url(hub_db),
            "BOT_TODAY": TODAY.isoformat(),
            "BOT_SECRET_HASH_ITERATIONS": str(ITERATIONS),
            "BOT_BUSINESS_HOURS": "00:00-23:59:59.999999",
            "BOT_BUSINESS_DAYS": "mon,tue,wed,thu,fri,sat,sun",
            "BOT_RASA_TOKEN": secrets.token_urlsafe(24),
            "BOT_ACTION_TOKEN": secrets.token_urlsafe(24),
            "BOT_ACTION_PORT": str(ACTION_PORT),
            "BOT_RASA_URLS": ",".join(f"http://127.0.0.1:{port}" for port in RASA_PORTS),
            "BOT_RASA_TRACKER_STORE_URL": rasa_db,
            "BOT_RASA_LOCK_STORE_URL": f"{redis.url}/1",
            "BOT_RASA_RETRY_SECONDS": "1",
            "BOT_HUB_REDIS_URL": f"{redis.url}/0",
            "BOT_HUB_HOST": "127.0.0.1",
            "TF_CPP_MIN_LOG_LEVEL": "2",
        }
        processes = Cluster(env, work, config.async_database_url(hub_db), postgres, redis)
        actions = processes.spawn("actions", ["-m", "bot.internal.action_server"])
        for index, port in enumerate(RASA_PORTS, 1):
            processes.spawn(f"rasa{index}", ["-m", "bot.internal.rasa_server", "--model", str(MODEL_PATH),
                                             "--endpoints", str(endpoints)], BOT_RASA_PORT=str(port))
        _wait_healthy(f"http://127.0.0.1:{ACTION_PORT}/health", actions)
        for index, port in enumerate(RASA_PORTS, 1):
            _wait_healthy(f"http://127.0.0.1:{port}/status?token={env['BOT_RASA_TOKEN']}",
                          processes.processes[f"rasa{index}"])
        for index, port in enumerate(HUB_PORTS, 1):
            hub = processes.spawn(f"hub{index}", ["-m", "bot", "serve"], BOT_HUB_PORT=str(port))
            _wait_healthy(f"http://127.0.0.1:{port}/health", hub)
        yield processes
    finally:
        if processes is not None:
            processes.close()
        asyncio.run(dispose_engines())
        redis.close()
        postgres.close()


async def _signed_in_agent(hub: str, events: Dict[str, list]):
    agent = aiohttp.ClientSession(base_url=hub, cookie_jar=aiohttp.CookieJar(unsafe=True))
    async with agent.post("/api/auth/login", json={"email": "sam@northwind.example",
                                                   "password": AGENT_PASSWORD}) as response:
        assert response.status == 200
    return agent, await console_socket(hub, agent, events)


def _fan_out_subscribers(redis: PrivateRedis) -> int:
    result = subprocess.run(["redis-cli", "-p", str(redis.port), "-n", "0", "pubsub", "numsub", "socketio"],
                            capture_output=True, text=True)
    lines = result.stdout.split()
    return int(lines[1]) if len(lines) == 2 else 0


async def _customer_messages(db_url: str, public_id: str):
    async with session_scope(db_url) as session:
        conversation = await store.get_conversation(session, public_id)
        messages = await store.messages_for(session, conversation.id)
        return [(m.text, m.delivery) for m in messages if m.sender == "customer"]


async def test_a_conversation_with_an_agent_survives_restarts_of_redis_and_postgresql(cluster):
    hub1, hub2 = cluster.hub_urls
    events: Dict[str, list] = {"queue": [], "message": []}
    customer = await Customer.connect(hub1)
    agent, console = await _signed_in_agent(hub2, events)
    try:
        await customer.say("I want to talk to a real person")
        await eventually(lambda: any("in the queue" in (m.get("text") or "") for m in customer.received), 60)
        async with session_scope(cluster.hub_db) as session:
            public_id = (await store.latest_conversation(session, "web", customer.session_id)).public_id
        await dispose_engines()  # the test's own connections would not outlive the restart
        async with agent.post(f"/api/conversations/{public_id}/take") as response:
            assert response.status == 200, await response.text()

        # Redis stops: the live copy between hubs is lost, the message is not (stored, in the history).
        cluster.redis.stop()
        async with agent.post(f"/api/conversations/{public_id}/messages",
                              json={"text": "Sam here, while Redis is away."}) as response:
            assert response.status == 201, await response.text()
        cluster.redis.start()
        await eventually(lambda: _fan_out_subscribers(cluster.redis) == 2, 60)  # both hubs listen again
        async with agent.post(f"/api/conversations/{public_id}/messages",
                              json={"text": "Sam again, Redis is back."}) as response:
            assert response.status == 201, await response.text()
        await eventually(lambda: any(m.get("text") == "Sam again, Redis is back." for m in customer.received), 30)

        # PostgreSQL restarts: the hubs' pools and advisory locks reconnect, Rasa's tracker store too.
        cluster.postgres.stop()
        cluster.postgres.start()
        acknowledgement = await customer.say("thanks, are you still there?")
        assert acknowledgement["ok"] is True, acknowledgement
        await eventually(lambda: any(e["message"]["text"] == "thanks, are you still there?"
                                     for e in events["message"]), 30)  # the agent on hub 2 sees it live
        async with agent.post(f"/api/conversations/{public_id}/handback") as response:
            assert response.status == 200, await response.text()
        await customer.say("what do I owe")
        await until_reply(customer, lambda t: "account number" in t, 90)

        await customer.client.emit("history_request", {})
        history = await eventually(lambda: customer.history, 10)
        heard = [m.get("text") for m in history]
        assert "Sam here, while Redis is away." in heard and "Sam again, Redis is back." in heard
        # Answered once, from the conversation's own tracker (not a blank one, not "something went wrong").
        assert len([text for text in heard if text and "account number" in text]) == 1, heard
        assert not [text for text in heard if text and "went wrong" in text], heard
        messages = await _customer_messages(cluster.hub_db, public_id)
        assert [text for text, _ in messages] == [
            "I want to talk to a real person", "thanks, are you still there?", "what do I owe"]
        assert {delivery for _, delivery in messages} <= {"answered", "held_for_agent"}, messages
        await console.disconnect()
    finally:
        await customer.close()
        await agent.close()
        await dispose_engines()


async def test_a_conversation_survives_kill_9_of_its_rasa_server_and_of_its_hub(cluster):
    hub1, hub2 = cluster.hub_urls
    events: Dict[str, list] = {"queue": [], "message": []}
    customer = await Customer.connect(hub1)
    agent, console = await _signed_in_agent(hub2, events)
    try:
        await customer.say("what do I owe")
        await until_reply(customer, lambda t: "account number" in t)
        async with session_scope(cluster.hub_db) as session:
            public_id = (await store.latest_conversation(session, "web", customer.session_id)).public_id
        home, other = rank(cluster.rasa_urls, public_id)
        home_name, other_name = (f"rasa{cluster.rasa_urls.index(url) + 1}" for url in (home, other))

        # kill -9 of the Rasa server holding the conversation: the other one goes on from the shared tracker.
        cluster.kill9(home_name)
        await customer.say("AC-100005")
        await until_reply(customer, lambda t: "ZIP code" in t, 60)
        await customer.say("98101")
        await until_reply(customer, lambda t: "you're verified" in t, 30)

        # Angry on hub 1; the agent on hub 2 sees it in the queue, takes it and answers.
        await customer.say("this is absolutely disgraceful, the worst service I have ever had, I am furious")
        await until_reply(customer, lambda t: "frustrating" in t, 30)
        await eventually(lambda: any("in the queue" in (m.get("text") or "") for m in customer.received), 30)
        await eventually(lambda: any(item["conversation_id"] == public_id
                                     for item in (events["queue"][-1]["queue"] if events["queue"] else [])), 30)
        async with agent.post(f"/api/conversations/{public_id}/take") as response:
            assert response.status == 200, await response.text()
        async with agent.post(f"/api/conversations/{public_id}/messages",
                              json={"text": "Sam here, sorry about that. Let me hand you back."}) as response:
            assert response.status == 201, await response.text()
        heard = await eventually(lambda: [m for m in customer.received if m["metadata"]["from"] == "agent"], 30)
        assert heard[0]["text"] == "Sam here, sorry about that. Let me hand you back."
        async with agent.post(f"/api/conversations/{public_id}/handback") as response:
            assert response.status == 200, await response.text()

        # kill -9 of hub 1 while it holds an unanswered message: the Rasa server it asked is stopped.
        cluster.signal(other_name, signal.SIGSTOP)
        acknowledgement = await customer.say("why did I get a reminder letter?")
        assert acknowledgement["ok"] is True, acknowledgement  # stored before the acknowledgement
        await asyncio.sleep(0.5)
        cluster.kill9("hub1")
        await customer.client.disconnect()
        customer = await Customer.connect(hub2, customer.session_id)
        cluster.signal(other_name, signal.SIGCONT)
        answer = await until_reply(customer, lambda t: "final reminder" in t, 90)
        assert "75 days overdue" in answer[0]  # still verified: the conversation went on, not over

        messages = await _customer_messages(cluster.hub_db, public_id)
        assert [text for text, _ in messages] == [
            "what do I owe", "AC-100005", "98101",
            "this is absolutely disgraceful, the worst service I have ever had, I am furious",
            "why did I get a reminder letter?",
        ]
        assert {delivery for _, delivery in messages} <= {"answered", "held_for_agent"}, messages
        await customer.client.emit("history_request", {})
        history = await eventually(lambda: customer.history, 10)
        answers = [m for m in history if "final reminder" in (m.get("text") or "")]
        assert len(answers) == 1, "the picked-up message was answered once"
        assert bot_texts(customer)
        await console.disconnect()
    finally:
        await customer.close()
        await agent.close()
        await dispose_engines()
