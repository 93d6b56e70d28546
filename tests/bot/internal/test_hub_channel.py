"""The hub's Rasa channel, served by Sanic as Rasa serves it: the token, and a failed turn."""

from __future__ import annotations

import socket

import aiohttp
from sanic import Sanic

from bot.internal.hub_channel import HubInput

TOKEN = "channel-test-token"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def _serve(on_new_message):
    app = Sanic(f"hub_channel_test_{_free_port()}")
    app.blueprint(HubInput(TOKEN).blueprint(on_new_message), url_prefix="/webhooks/hub")
    port = _free_port()
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True)
    await server.startup()
    await server.start_serving()
    return server, f"http://127.0.0.1:{port}/webhooks/hub/webhook"


async def test_a_turn_is_answered_and_a_failed_turn_is_500_not_an_empty_answer():
    seen = []

    async def on_new_message(message):
        seen.append((message.sender_id, message.text, message.metadata))
        if message.text == "what do I owe":
            raise RuntimeError("server closed the connection unexpectedly")  # the tracker store
        await message.output_channel.send_text_message(message.sender_id, f"you said {message.text}")

    server, url = await _serve(on_new_message)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    try:
        async with aiohttp.ClientSession() as http:
            body = {"sender": "c1", "message": "hello", "metadata": {"hub_message_id": 7}}
            async with http.post(url, json=body, headers=headers) as response:
                assert response.status == 200
                assert await response.json() == [{"recipient_id": "c1", "text": "you said hello"}]
            # Rasa's own REST channel would answer 200 and [] here, and the hub would give up.
            body = {"sender": "c1", "message": "what do I owe", "metadata": {"hub_message_id": 8}}
            async with http.post(url, json=body, headers=headers) as response:
                assert response.status == 500
                assert await response.json() == {"error": "the turn failed; try again"}
            async with http.post(url, json=body) as response:
                assert response.status == 401
    finally:
        server.close()
        await server.wait_closed()
    assert seen == [("c1", "hello", {"hub_message_id": 7}), ("c1", "what do I owe", {"hub_message_id": 8})]
