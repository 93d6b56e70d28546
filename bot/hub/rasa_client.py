"""Talks to the Rasa server: the REST webhook for messages, the HTTP API for
pausing and resuming a conversation's tracker. No blocking calls."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, List, Optional

import aiohttp

logger = logging.getLogger(__name__)


class RasaUnavailable(Exception):
    """Rasa could not be reached, timed out or failed; the message was not processed."""


class RasaClient:
    def __init__(self, base_url: str, timeout_seconds: float) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._session: Optional[aiohttp.ClientSession] = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def _post(self, path: str, body: Any) -> Any:
        try:
            async with self._http().post(f"{self.base_url}{path}", json=body) as response:
                if response.status >= 500:
                    raise RasaUnavailable(f"Rasa answered {response.status} for {path}")
                if response.status >= 400:
                    raise RasaUnavailable(f"Rasa refused {path}: {response.status} {await response.text()}")
                return await response.json(content_type=None)
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
            raise RasaUnavailable(f"Rasa unreachable at {self.base_url}: {exc!r}") from exc

    async def send(self, sender_id: str, text: str, metadata: Dict[str, Any]) -> List[Dict[str, Any]]:
        """One customer message in, the bot's replies out (REST channel format)."""
        replies = await self._post("/webhooks/rest/webhook", {"sender": sender_id, "message": text, "metadata": metadata})
        return replies if isinstance(replies, list) else []

    async def _events(self, sender_id: str, events: List[Dict[str, Any]]) -> None:
        await self._post(f"/conversations/{sender_id}/tracker/events?include_events=NONE", events)

    async def pause(self, sender_id: str) -> None:
        await self._events(sender_id, [{"event": "pause"}])

    async def resume(self, sender_id: str) -> None:
        # The paused tracker ended on action_handoff without listening; without an
        # action_listen the rules predict nothing for the customer's next message.
        await self._events(sender_id, [{"event": "resume"}, {"event": "action", "name": "action_listen"}])

    async def healthy(self) -> bool:
        try:
            async with self._http().get(f"{self.base_url}/status", timeout=aiohttp.ClientTimeout(total=5)) as response:
                return response.status == 200
        except (aiohttp.ClientError, asyncio.TimeoutError):
            return False
