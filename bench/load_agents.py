"""bench/load.py's agent client: the demo agents signed in to the console (socket + HTTP), who take
the conversations handed to people, answer twice and hand back."""

from __future__ import annotations

import asyncio
import contextlib
import zlib
from collections import Counter
from typing import Any, Dict, List, Optional

import aiohttp
import socketio

from bench.load_stack import AGENT_PASSWORD, now
from bot.demo.agents import DEMO_AGENTS


class AgentDesk:
    """The demo agents, each signed in with a console socket, sharing the queue between them."""

    REPLIES = (
        "Hi, I'm {name} from the team. I've read the conversation, let me look at your account.",
        "Thanks. I've checked it and put a note on your account; the assistant can help with the rest.",
    )

    def __init__(self, hub_url: str, timeout: float) -> None:
        self.hub_url, self.timeout = hub_url, timeout
        self.agents: List[Dict[str, Any]] = []
        self.handling: Dict[str, asyncio.Task] = {}
        self.customer_said: Dict[str, asyncio.Queue] = {}
        self.counts: Counter = Counter()
        self._poller: Optional[asyncio.Task] = None

    async def start(self) -> None:
        for index, (email, name) in enumerate(DEMO_AGENTS):
            http = aiohttp.ClientSession(base_url=self.hub_url, cookie_jar=aiohttp.CookieJar(unsafe=True),
                                         timeout=aiohttp.ClientTimeout(total=self.timeout))
            agent = {"index": index, "name": name.split()[0], "http": http}
            self.agents.append(agent)
            async with http.post("/api/auth/login", json={"email": email, "password": AGENT_PASSWORD}) as response:
                if response.status != 200:
                    raise RuntimeError(f"agent sign-in for {email} failed: {response.status} {await response.text()}")
            sio = socketio.AsyncClient(reconnection=False)
            agent["sio"] = sio
            sio.on("queue", lambda data, agent=agent: self._queue(agent, data), namespace="/console")
            sio.on("message", lambda data, agent=agent: self._message(agent, data), namespace="/console")
            cookie = "; ".join(f"{c.key}={c.value}" for c in http.cookie_jar)
            await asyncio.wait_for(sio.connect(self.hub_url, headers={"Cookie": cookie}, namespaces=["/console"],
                                               transports=["websocket"], socketio_path="socket.io"), self.timeout)
        self._poller = asyncio.ensure_future(self._poll())

    async def _poll(self) -> None:
        """In case a queue event is missed: look at the queue every few seconds."""
        while True:
            await asyncio.sleep(5)
            for agent in self.agents:
                try:
                    async with agent["http"].get("/api/queue") as response:
                        if response.status == 200:
                            self._queue(agent, await response.json())
                except (aiohttp.ClientError, asyncio.TimeoutError):
                    self.counts["queue poll failed"] += 1

    def _mine(self, agent: Dict[str, Any], cid: str) -> bool:
        """Every console hears everything: each conversation belongs to one agent."""
        return zlib.crc32(cid.encode()) % len(self.agents) == agent["index"]

    def _queue(self, agent: Dict[str, Any], data: Any) -> None:
        for item in (data or {}).get("queue", []):
            cid = item.get("conversation_id")
            if not cid or item.get("status") != "pending" or not self._mine(agent, cid):
                continue
            if cid in self.handling and not self.handling[cid].done():
                continue
            self.customer_said.setdefault(cid, asyncio.Queue())
            self.handling[cid] = asyncio.ensure_future(self._handle(agent, cid))

    def _message(self, agent: Dict[str, Any], data: Any) -> None:
        cid = (data or {}).get("conversation_id")
        if cid and (data.get("message") or {}).get("from") == "customer" and self._mine(agent, cid):
            self.customer_said.setdefault(cid, asyncio.Queue()).put_nowait(now())

    async def _post(self, agent: Dict[str, Any], path: str, body: Optional[Dict[str, Any]] = None) -> int:
        async with agent["http"].post(path, json=body if body is not None else {}) as response:
            await response.read()
            return response.status

    async def _handle(self, agent: Dict[str, Any], cid: str) -> None:
        try:
            status = await self._post(agent, f"/api/conversations/{cid}/take")
            if status != 200:
                self.counts[f"take {status}"] += 1
                return
            self.counts["taken"] += 1
            said = self.customer_said[cid]
            for reply in self.REPLIES:
                if await self._post(agent, f"/api/conversations/{cid}/messages",
                                    {"text": reply.format(name=agent["name"])}) != 201:
                    self.counts["message refused"] += 1
                try:
                    await asyncio.wait_for(said.get(), self.timeout)
                except asyncio.TimeoutError:
                    self.counts["customer silent"] += 1
                    break
            status = await self._post(agent, f"/api/conversations/{cid}/handback")
            self.counts["handed back" if status == 200 else f"handback {status}"] += 1
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            self.counts[f"agent error {type(exc).__name__}"] += 1

    async def settle(self, timeout: float) -> None:
        busy = [t for t in self.handling.values() if not t.done()]
        if busy:
            await asyncio.wait(busy, timeout=timeout)

    async def stop(self) -> None:
        if self._poller:
            self._poller.cancel()
        for task in self.handling.values():
            task.cancel()
        for agent in self.agents:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(agent["sio"].disconnect(), 5)
            await agent["http"].close()
