"""Talks to the Rasa server: the REST webhook for messages, the HTTP API for
pausing and resuming a conversation's tracker. No blocking calls."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, List, Optional, Protocol

import aiohttp

from bot.internal.tokens import bearer

logger = logging.getLogger(__name__)


class RasaUnavailable(Exception):
    """Rasa could not be reached, timed out or failed; the message was not processed."""


class RasaRefused(RasaUnavailable):
    """No connection to Rasa at all: nothing was sent, so another Rasa server may take the call."""


WEBHOOK = "/webhooks/hub/webhook"


class Rasa(Protocol):
    """What the hub asks of Rasa: one server (RasaClient) or several (bot.hub.rasa_pool.RasaPool)."""

    async def send(self, sender_id: str, text: str, metadata: Dict[str, Any]) -> List[Dict[str, Any]]: ...

    async def replies_to(self, sender_id: str, hub_message_id: int) -> Optional[List[Dict[str, Any]]]: ...

    async def pause(self, sender_id: str) -> None: ...

    async def resume(self, sender_id: str) -> None: ...

    async def healthy(self) -> bool: ...

    async def close(self) -> None: ...


def customer_text(text: str) -> str:
    """What a customer typed, never read as Rasa's ``/intent{"entity": ...}`` shortcut:
    a leading slash would let anyone pick an intent and entities (the bot offers no
    buttons whose payloads need it)."""
    stripped = text.strip()
    return stripped.lstrip("/").lstrip() if stripped.startswith("/") else text


class RasaClient:
    def __init__(self, base_url: str, timeout_seconds: float, token: str = "") -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        # Rasa's HTTP API takes its token as ?token=; the hub's webhook as a bearer header.
        self._params = {"token": token} if token else {}
        self._headers = {"Authorization": bearer(token)} if token else {}
        self._session: Optional[aiohttp.ClientSession] = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self.timeout, headers=self._headers)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def _post(self, path: str, body: Any, params: Optional[Dict[str, str]] = None) -> Any:
        try:
            async with self._http().post(f"{self.base_url}{path}", json=body, params=params) as response:
                if response.status >= 500:
                    raise RasaUnavailable(f"Rasa answered {response.status} for {path}")
                if response.status >= 400:
                    raise RasaUnavailable(f"Rasa refused {path}: {response.status} {await response.text()}")
                return await response.json(content_type=None)
        except aiohttp.ClientConnectorError as exc:
            raise RasaRefused(f"Rasa unreachable at {self.base_url}: {exc!r}") from exc
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
            raise RasaUnavailable(f"Rasa unreachable at {self.base_url}: {exc!r}") from exc

    async def send(self, sender_id: str, text: str, metadata: Dict[str, Any]) -> List[Dict[str, Any]]:
        """One customer message in, the bot's replies out (REST channel format)."""
        replies = await self._post(WEBHOOK, {"sender": sender_id, "message": customer_text(text), "metadata": metadata})
        return replies if isinstance(replies, list) else []

    async def replies_to(self, sender_id: str, hub_message_id: int) -> Optional[List[Dict[str, Any]]]:
        """What the bot said to one message, if Rasa has it already (it may have finished
        after our request timed out); None when Rasa never received that message."""
        try:
            async with self._http().get(
                f"{self.base_url}/conversations/{sender_id}/tracker", params={"include_events": "ALL", **self._params}
            ) as response:
                if response.status != 200:
                    raise RasaUnavailable(f"Rasa answered {response.status} for the tracker")
                tracker = await response.json(content_type=None)
        except aiohttp.ClientConnectorError as exc:
            raise RasaRefused(f"Rasa unreachable at {self.base_url}: {exc!r}") from exc
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
            raise RasaUnavailable(f"Rasa unreachable at {self.base_url}: {exc!r}") from exc
        return replies_after(tracker.get("events") or [], hub_message_id)

    async def _events(self, sender_id: str, events: List[Dict[str, Any]]) -> None:
        await self._post(
            f"/conversations/{sender_id}/tracker/events", events, params={"include_events": "NONE", **self._params}
        )

    async def pause(self, sender_id: str) -> None:
        await self._events(sender_id, [{"event": "pause"}])

    async def resume(self, sender_id: str) -> None:
        # The paused tracker ended on action_handoff without listening; without an
        # action_listen the rules predict nothing for the customer's next message.
        await self._events(sender_id, [{"event": "resume"}, {"event": "action", "name": "action_listen"}])

    async def healthy(self) -> bool:
        try:
            async with self._http().get(
                f"{self.base_url}/status", params=self._params, timeout=aiohttp.ClientTimeout(total=5)
            ) as response:
                return response.status == 200
        except (aiohttp.ClientError, asyncio.TimeoutError):
            return False


def replies_after(events: List[Dict[str, Any]], hub_message_id: int) -> Optional[List[Dict[str, Any]]]:
    """The bot events after the user event carrying ``hub_message_id``, in the REST channel's shape."""
    replies: Optional[List[Dict[str, Any]]] = None
    for event in events:
        kind = event.get("event")
        if kind == "user":
            if replies is not None:
                break
            if (event.get("metadata") or {}).get("hub_message_id") == hub_message_id:
                replies = []
        elif kind == "bot" and replies is not None:
            data = event.get("data") or {}
            reply = {"text": event.get("text")} if event.get("text") else {}
            reply.update({k: data[k] for k in ("buttons", "image", "custom", "attachment") if data.get(k)})
            if reply:
                replies.append(reply)
    return replies
