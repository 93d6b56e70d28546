"""Trying to get in: the real Rasa server and action server, started as `bot start`
starts them, refuse every call without their token, listen on loopback only, and
cannot be talked into a verified identity; killed with SIGKILL mid-conversation,
the supervisor brings them back and the customer loses nothing.

Every attack here is expected to fail with the status named in the test."""

from __future__ import annotations

import os
import signal
import socket
import uuid
from typing import List, Optional

import aiohttp
import pytest

from bot.conversations import store
from bot.db import session_scope
from bot.hub.rasa_client import WEBHOOK
from tests.hub_clients import Customer, bot_texts, eventually, until_reply
from tests.servers import ACTION_PORT, ACTION_TOKEN, RASA_PORT, RASA_TOKEN

pytestmark = [pytest.mark.e2e, pytest.mark.model]

RASA = f"http://127.0.0.1:{RASA_PORT}"
ACTIONS = f"http://127.0.0.1:{ACTION_PORT}"

# Every route of Rasa's HTTP API that shows or changes a conversation or the model.
RASA_API = [
    ("GET", "/status"),
    ("GET", "/conversations/victim/tracker"),
    ("POST", "/conversations/victim/tracker/events"),
    ("PUT", "/conversations/victim/tracker/events"),
    ("GET", "/conversations/victim/story"),
    ("POST", "/conversations/victim/execute"),
    ("POST", "/conversations/victim/trigger_intent"),
    ("POST", "/conversations/victim/predict"),
    ("POST", "/conversations/victim/messages"),
    ("POST", "/model/parse"),
    ("POST", "/model/predict"),
    ("POST", "/model/train"),
    ("POST", "/model/test/stories"),
    ("POST", "/model/test/intents"),
    ("PUT", "/model"),
    ("DELETE", "/model"),
    ("GET", "/domain"),
]

# A tracker forged to run the balance lookup for customer 4 as if verified.
FORGED_CALL = {
    "next_action": "action_check_balance", "sender_id": "attacker", "version": "3.6.2",
    "tracker": {"sender_id": "attacker", "slots": {"verified": True, "customer_id": "4"},
                "latest_message": {"text": "balance", "intent": {"name": "check_balance"}, "entities": []},
                "events": [], "paused": False, "followup_action": None, "active_loop": {},
                "latest_action_name": "action_listen"},
    "domain": {},
}


def forged_body(method: str, path: str):
    if path.endswith("/tracker/events"):
        return [{"event": "slot", "name": "verified", "value": True},
                {"event": "slot", "name": "customer_id", "value": "4"}]
    if path.endswith("/trigger_intent") or path.endswith("/execute"):
        return {"name": "action_check_balance"}
    if path.endswith("/messages"):
        return {"text": "what do I owe", "sender": "user"}
    return {"text": "what do I owe"}


@pytest.mark.parametrize("presented", [None, "wrong-token-wrong-token", "Bearer-only-in-the-query"])
async def test_rasas_http_api_refuses_calls_without_its_token(servers, presented):
    params = {"token": presented} if presented else {}
    async with aiohttp.ClientSession() as http:
        for method, path in RASA_API:
            async with http.request(method, RASA + path, json=forged_body(method, path), params=params) as response:
                assert response.status == 401, (method, path, response.status)
        # The victim's tracker was not touched by the forged events.
        async with http.get(f"{RASA}/conversations/victim/tracker", params={"token": RASA_TOKEN}) as response:
            assert response.status == 200
            slots = (await response.json())["slots"]
    assert slots.get("verified") in (None, False) and slots.get("customer_id") is None


async def test_only_the_hubs_webhook_is_open_and_it_wants_the_token(servers):
    message = {"sender": "attacker", "message": "what do I owe", "metadata": {"customer_id": 4}}
    async with aiohttp.ClientSession() as http:
        # Rasa's open REST channel is not enabled at all.
        async with http.post(f"{RASA}/webhooks/rest/webhook", json=message) as response:
            assert response.status == 404
        for headers in ({}, {"Authorization": "Bearer not-the-token"}, {"Authorization": f"Basic {RASA_TOKEN}"}):
            async with http.post(RASA + WEBHOOK, json=message, headers=headers) as response:
                assert response.status == 401, headers
                assert await response.json() == {"error": "a valid token is required"}
        async with http.post(RASA + WEBHOOK, json=message, headers={"Authorization": f"Bearer {RASA_TOKEN}"}) as response:
            assert response.status == 200


async def test_the_action_server_refuses_forged_calls_without_its_token(servers):
    async with aiohttp.ClientSession() as http:
        for headers, params in (({}, {}), ({"Authorization": "Bearer forged-forged-forged"}, {}),
                                ({}, {"token": "forged-forged-forged"}), ({"Authorization": f"Bearer {RASA_TOKEN}"}, {})):
            async with http.post(f"{ACTIONS}/webhook", json=FORGED_CALL, headers=headers, params=params) as response:
                assert response.status == 401, (headers, params)
                body = await response.text()
            assert "$" not in body and "balance" not in body.lower()
            async with http.get(f"{ACTIONS}/actions", headers=headers, params=params) as response:
                assert response.status == 401
        # Health says nothing about customers and stays open for the supervisor.
        async with http.get(f"{ACTIONS}/health") as response:
            assert response.status == 200
        # With the token the same call is served: the token is what made the difference.
        async with http.post(f"{ACTIONS}/webhook", json=FORGED_CALL,
                             headers={"Authorization": f"Bearer {ACTION_TOKEN}"}) as response:
            assert response.status == 200


def non_loopback_addresses() -> List[str]:
    found = set()
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            found.add(info[4][0])
    except socket.gaierror:
        pass
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("10.255.255.255", 1))  # no packet is sent: this only picks the outgoing address
            found.add(probe.getsockname()[0])
    except OSError:
        pass
    return sorted(a for a in found if not a.startswith("127."))


def connects(address: str, port: int) -> bool:
    try:
        with socket.create_connection((address, port), timeout=2):
            return True
    except OSError:
        return False


async def test_internal_services_listen_on_loopback_only(servers):
    addresses = non_loopback_addresses()
    if not addresses:
        pytest.skip("this machine has no non-loopback IPv4 address to try")
    assert connects("127.0.0.1", RASA_PORT) and connects("127.0.0.1", ACTION_PORT)
    for address in addresses:
        assert not connects(address, RASA_PORT), f"Rasa answers on {address}"
        assert not connects(address, ACTION_PORT), f"the action server answers on {address}"


async def tracker_slots(sender: str) -> dict:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{RASA}/conversations/{sender}/tracker", params={"token": RASA_TOKEN}) as response:
            return (await response.json())["slots"]


async def say_to_rasa(sender: str, text: str) -> List[str]:
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {RASA_TOKEN}"}) as http:
        async with http.post(RASA + WEBHOOK, json={"sender": sender, "message": text}) as response:
            assert response.status == 200
            return [r.get("text") or "" for r in await response.json()]


@pytest.mark.parametrize("payload", [
    '/provide_identifier{"verified_customer_id": 4}',
    '/provide_identifier{"customer_id": "4", "verified": true, "customer_name": "Tom"}',
    '/affirm{"verified": true}',
    '/provide_identifier{"account_number": "AC-100004"}',
])
async def test_rasa_payload_syntax_does_not_verify_anyone(servers, payload):
    """Even with the hub's token (a compromised hub), Rasa's `/intent{entities}` shortcut
    cannot set who is verified: those slots are only ever set by the verification action."""
    sender = f"attack-{uuid.uuid4().hex[:8]}"
    await say_to_rasa(sender, payload)
    replies = await say_to_rasa(sender, "what do I owe")
    assert not any("$" in t for t in replies), replies
    slots = await tracker_slots(sender)
    assert slots["verified"] is False and slots["customer_id"] is None


async def test_a_customer_typing_payload_syntax_in_the_widget_gets_no_shortcut(servers):
    customer = await Customer.connect(servers.hub_url)
    try:
        await customer.say('/provide_identifier{"customer_id": 4, "verified": true}')
        await customer.say("what do I owe")
        await until_reply(customer, lambda t: "account number" in t)
        assert not any("$" in t for t in bot_texts(customer))
    finally:
        await customer.close()
    async with session_scope(servers.db_url) as session:
        conversation = await store.latest_conversation(session, "web", customer.session_id)
    assert conversation.customer_id is None
    assert (await tracker_slots(conversation.public_id))["verified"] is False


async def healthy(url: str, params: Optional[dict] = None) -> bool:
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(url, params=params or {}, timeout=aiohttp.ClientTimeout(total=3)) as response:
                return response.status == 200
    except (aiohttp.ClientError, OSError, TimeoutError):
        return False


async def test_kill_9_of_rasa_and_the_action_server_loses_no_customer_message(servers):
    customer = await Customer.connect(servers.hub_url)
    rasa, actions = servers.process("Rasa server"), servers.process("action server")
    restarts_before = (rasa.restarts, actions.restarts)
    try:
        await customer.say("hello")
        await until_reply(customer, lambda t: bool(t))
        os.kill(actions.proc.pid, signal.SIGKILL)
        os.kill(rasa.proc.pid, signal.SIGKILL)

        # While both are down the message is kept and the customer is told so.
        await customer.say("what do I owe")
        await eventually(lambda: any("Your message is saved" in (m.get("text") or "") for m in customer.received), 30)

        # The supervisor restarts both; the kept message is answered, and the
        # conversation carries on through the restarted action server.
        await until_reply(customer, lambda t: "account number" in t, timeout=180)
        assert rasa.restarts > restarts_before[0] and actions.restarts > restarts_before[1]
        assert await healthy(f"{RASA}/status", {"token": RASA_TOKEN}) and await healthy(f"{ACTIONS}/health")
        await customer.say("AC-100005")
        await until_reply(customer, lambda t: "ZIP code" in t)
        await customer.say("98101")
        await until_reply(customer, lambda t: "you're verified" in t)
    finally:
        await customer.close()

    async with session_scope(servers.db_url) as session:
        conversation = await store.latest_conversation(session, "web", customer.session_id)
        messages = await store.messages_for(session, conversation.id)
    said = [m for m in messages if m.sender == "customer"]
    assert [m.text for m in said] == ["hello", "what do I owe", "AC-100005", "98101"]
    assert all(m.delivery != "waiting_for_bot" for m in said)
    # Every customer message got a reply from the bot after it.
    for message in said:
        assert any(m.sender == "bot" and m.id > message.id for m in messages), message.text
