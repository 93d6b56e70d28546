"""rasa-webchat 1.0.1, in headless Chromium, speaks the socket.io protocol that
Rasa's socketio channel serves (tests/browser/webchat.py has the details).

The server here is a small python-socketio server that answers like Rasa's
channel does, so the test needs neither the model nor a Rasa process.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any, Callable, List, Optional, Tuple

import pytest
import socketio
from aiohttp import web

from tests.browser import webchat


class FakeRasaSocket:
    """Rasa's socketio channel in miniature, in a thread: session_request is
    answered with session_confirm (the id as a string), user_uttered with
    bot_uttered to the session's room. Records what it receives."""

    REPLIES = {
        "/greet": [{"text": "Hi! How can I help?"}],
        "buttons": [
            {"text": "Intro", "quick_replies": []},
            {
                "text": "Shall I send a payment link?",
                "quick_replies": [
                    {"content_type": "text", "title": "Yes please", "payload": "/affirm"},
                    {"content_type": "text", "title": "No", "payload": "/deny"},
                ],
            },
        ],
        "custom": [{"text": "not shown", "custom": {"handoff": True}}, {"text": "after custom"}],
    }

    def __init__(self) -> None:
        self.received: List[Tuple[str, Any]] = []
        self.port: Optional[int] = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=asyncio.run, args=(self._main(),), daemon=True)

    async def _main(self) -> None:
        sio = socketio.AsyncServer(async_mode="aiohttp", cors_allowed_origins="*")
        app = web.Application()
        sio.attach(app)

        @sio.on("session_request")
        async def session_request(sid, data):
            self.received.append(("session_request", data))
            session_id = (data or {}).get("session_id") or f"session-{len(self.received)}"
            await sio.enter_room(sid, session_id)
            await sio.emit("session_confirm", session_id, room=sid)

        @sio.on("user_uttered")
        async def user_uttered(sid, data):
            self.received.append(("user_uttered", data))
            message = data.get("message")
            for reply in self.REPLIES.get(message, [{"text": f"You said: {message}"}]):
                await sio.emit("bot_uttered", reply, room=data["session_id"])

        # Open websockets would hold up cleanup for shutdown_timeout seconds.
        runner = web.AppRunner(app, shutdown_timeout=0.5)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self.port = runner.addresses[0][1]
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self._ready.set()
        await self._stop.wait()
        await runner.cleanup()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "FakeRasaSocket":
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the fake socket.io server did not start")
        return self

    def __exit__(self, *exc) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def wait_for(self, condition: Callable[[List[Tuple[str, Any]]], bool], timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while not condition(self.received):
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out; the server received {self.received}")
            time.sleep(0.05)


@pytest.fixture
def fake_rasa():
    with FakeRasaSocket() as server:
        yield server


def bot_texts(page) -> List[str]:
    return page.locator(webchat.BOT_MESSAGE).all_inner_texts()


def test_widget_talks_to_a_socketio_channel(fake_rasa, static_server, page):
    url = webchat.serve(static_server, socket_url=fake_rasa.url, custom_data={"language": "en"})
    page.goto(url)

    # It connects while still closed and asks for a session.
    page.click(webchat.LAUNCHER)
    page.wait_for_selector(f"{webchat.BOT_MESSAGE}:has-text('Hi! How can I help?')")
    session_id = page.evaluate(
        f"JSON.parse(sessionStorage.getItem('{webchat.STORAGE_KEY}')).session_id"
    )
    assert fake_rasa.received[:2] == [
        ("session_request", {"session_id": None}),
        ("user_uttered", {"message": "/greet", "customData": {"language": "en"}, "session_id": session_id}),
    ]

    # Typed text goes out as user_uttered; quick replies send their payload.
    page.fill(webchat.INPUT, "buttons")
    page.press(webchat.INPUT, "Enter")
    page.wait_for_selector(f"{webchat.REPLY}:has-text('Yes please')")
    assert bot_texts(page)[-2:] == ["Intro", "Shall I send a payment link?"]
    page.click(f"{webchat.REPLY}:has-text('Yes please')")
    page.wait_for_selector(f"{webchat.BOT_MESSAGE}:has-text('You said: /affirm')")
    assert page.locator(webchat.USER_MESSAGE).all_inner_texts() == ["buttons", "Yes please"]
    assert fake_rasa.received[2:] == [
        ("user_uttered", {"message": "buttons", "customData": {"language": "en"}, "session_id": session_id}),
        ("user_uttered", {"message": "/affirm", "customData": {"language": "en"}, "session_id": session_id}),
    ]

    # A message with a key besides text/buttons/metadata is dropped silently.
    page.fill(webchat.INPUT, "custom")
    page.click(webchat.SEND)
    page.wait_for_selector(f"{webchat.BOT_MESSAGE}:has-text('after custom')")
    assert "not shown" not in bot_texts(page)

    # After a reload it asks for the same session and keeps the history.
    page.reload()
    fake_rasa.wait_for(lambda received: received[-1] == ("session_request", {"session_id": session_id}))
    if not page.locator(webchat.OPEN_WIDGET).count():
        page.click(webchat.LAUNCHER)
    page.wait_for_selector(f"{webchat.BOT_MESSAGE}:has-text('after custom')")
