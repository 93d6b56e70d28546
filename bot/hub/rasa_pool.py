"""Several Rasa servers behind one hub. They share one tracker store (PostgreSQL) and one lock
store (Redis), so any of them can continue any conversation; the pool keeps each conversation on
the same server while that server is up (rendezvous hashing on the conversation's id: adding or
losing a server moves only the conversations it held) and moves it to the next server in the
conversation's own order when a connection is refused.

Only a refused connection moves a call on at once: nothing was sent, so nothing can run twice.
A server that dies while it holds a message raises RasaUnavailable as before; the hub keeps the
message and its retry asks the tracker (shared) whether the message got through before sending it
again (:mod:`bot.hub.outage`).
"""

from __future__ import annotations

import hashlib
import logging
import time
from typing import Any, Awaitable, Callable, Dict, List, Optional, Sequence, TypeVar

from bot.hub.rasa_client import RasaClient, RasaRefused, RasaUnavailable

logger = logging.getLogger(__name__)

T = TypeVar("T")

# A server that refused a connection is tried last for this long, then first again where it ranks first.
DOWN_SECONDS = 5.0


def rank(urls: Sequence[str], conversation: str) -> List[str]:
    """The servers in this conversation's order of preference (highest random weight first)."""
    return sorted(urls, key=lambda url: hashlib.sha256(f"{url}|{conversation}".encode()).digest(), reverse=True)


class RasaPool:
    def __init__(
        self,
        clients: Sequence[RasaClient],
        down_seconds: float = DOWN_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not clients:
            raise ValueError("a Rasa pool needs at least one server")
        self.clients: Dict[str, RasaClient] = {client.base_url: client for client in clients}
        self.down_seconds = down_seconds
        self.clock = clock
        self._down_until: Dict[str, float] = {}

    @classmethod
    def from_urls(cls, urls: Sequence[str], timeout_seconds: float, token: str) -> "RasaPool":
        return cls([RasaClient(url, timeout_seconds, token) for url in urls])

    def order(self, conversation: str) -> List[RasaClient]:
        """Servers that are up in the conversation's order, then those that recently refused."""
        now = self.clock()
        ranked = rank(list(self.clients), conversation)
        up = [url for url in ranked if self._down_until.get(url, 0.0) <= now]
        down = [url for url in ranked if url not in up]
        return [self.clients[url] for url in up + down]

    async def _first_that_answers(self, conversation: str, call: Callable[[RasaClient], Awaitable[T]]) -> T:
        refused: Optional[RasaRefused] = None
        for client in self.order(conversation):
            try:
                result = await call(client)
            except RasaRefused as exc:
                self._down_until[client.base_url] = self.clock() + self.down_seconds
                logger.warning("Rasa server %s refused; trying the next one: %s", client.base_url, exc)
                refused = exc
                continue
            self._down_until.pop(client.base_url, None)
            return result
        raise RasaUnavailable(f"no Rasa server answered (last: {refused})") from refused

    async def send(self, sender_id: str, text: str, metadata: Dict[str, Any]) -> List[Dict[str, Any]]:
        return await self._first_that_answers(sender_id, lambda client: client.send(sender_id, text, metadata))

    async def replies_to(self, sender_id: str, hub_message_id: int) -> Optional[List[Dict[str, Any]]]:
        return await self._first_that_answers(sender_id, lambda client: client.replies_to(sender_id, hub_message_id))

    async def pause(self, sender_id: str) -> None:
        await self._first_that_answers(sender_id, lambda client: client.pause(sender_id))

    async def resume(self, sender_id: str) -> None:
        await self._first_that_answers(sender_id, lambda client: client.resume(sender_id))

    async def healthy(self) -> bool:
        """True when at least one server answers its status check."""
        for client in self.clients.values():
            if await client.healthy():
                return True
        return False

    async def close(self) -> None:
        for client in self.clients.values():
            await client.close()
