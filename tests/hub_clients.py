"""Clients of a running hub for tests: a widget customer speaking Rasa's socketio
protocol, an agent's console socket, and waiting for what arrives asynchronously."""

from __future__ import annotations

import asyncio
from typing import Any, Dict, List, Optional

import aiohttp
import socketio


async def eventually(check, timeout: float = 10.0):
    """Waits until ``check()`` is truthy (socket events arrive asynchronously)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


async def console_socket(url: str, http: aiohttp.ClientSession, events: Dict[str, List[Any]]) -> socketio.AsyncClient:
    """An agent's live console connection, signed in with ``http``'s session cookie."""
    client = socketio.AsyncClient(reconnection=False)
    for name, received in events.items():
        client.on(name, received.append, namespace="/console")
    cookie = "; ".join(f"{c.key}={c.value}" for c in http.cookie_jar)
    await client.connect(url, headers={"Cookie": cookie}, namespaces=["/console"],
                         transports=["websocket"], socketio_path="socket.io")
    return client


class Customer:
    """A widget customer: a socket.io client speaking Rasa's socketio protocol."""

    def __init__(self, client: socketio.AsyncClient) -> None:
        self.client = client
        self.received: List[Dict[str, Any]] = []
        self.typing: List[Dict[str, Any]] = []
        self.history: Optional[List[Dict[str, Any]]] = None
        self.session_id: Optional[str] = None
        client.on("bot_uttered", self.received.append)
        client.on("typing", self.typing.append)
        client.on("history", lambda data: setattr(self, "history", data["messages"]))

    @classmethod
    async def connect(cls, url: str, session_id: Optional[str] = None) -> "Customer":
        customer = cls(socketio.AsyncClient(reconnection=False))
        confirmed = asyncio.get_running_loop().create_future()
        customer.client.on("session_confirm", lambda sid: confirmed.done() or confirmed.set_result(sid))
        await customer.client.connect(url, socketio_path="socket.io", transports=["websocket"])
        await customer.client.emit("session_request", {"session_id": session_id})
        customer.session_id = await asyncio.wait_for(confirmed, 10)
        return customer

    async def say(self, text: Any, message_id: Optional[str] = None) -> Dict[str, Any]:
        return await self.client.call("user_uttered", {"message": text, "session_id": self.session_id,
                                                       "message_id": message_id}, timeout=10)

    def texts(self) -> List[str]:
        return [m.get("text") for m in self.received]

    async def close(self) -> None:
        await self.client.disconnect()




def bot_texts(customer: Customer) -> List[str]:
    """What the bot (not the system or an agent) said to this customer, in order."""
    return [m.get("text") or "" for m in customer.received if m["metadata"]["from"] == "bot"]


async def until_reply(customer: Customer, predicate, timeout: float = 60.0):
    """Waits for bot replies matching ``predicate``; returns them."""
    return await eventually(lambda: [t for t in bot_texts(customer) if predicate(t)], timeout)
