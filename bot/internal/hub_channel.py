"""The Rasa input channel the hub talks to: Rasa's REST webhook, at
``/webhooks/hub/webhook``, refusing every request without the hub's token.

Rasa's own ``rest`` channel is open to anyone who can reach the port and trusts the
metadata it is sent (channel, verified customer); this one only takes messages from
the hub. Configured in credentials.yml as ``bot.internal.hub_channel.HubInput``.

A turn that fails inside Rasa (its tracker store is unreachable, say) is answered 500, where
Rasa's REST channel answers 200 with no messages: the hub then keeps the message and retries
it, instead of telling the customer nothing could be done.
"""

from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request

from bot.config import get_settings
from bot.internal.tokens import presented_token, token_ok

logger = logging.getLogger(__name__)


class HubInput(RestInput):
    @classmethod
    def name(cls) -> Text:
        return "hub"

    def __init__(self, token: str) -> None:
        self.token = token

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "HubInput":
        # The token comes from the settings, never from credentials.yml (kept in git).
        return cls(get_settings().rasa.token)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        webhook = Blueprint(f"custom_webhook_{type(self).__name__}", __name__)

        @webhook.middleware("request")
        async def require_token(request: Request) -> Optional[response.HTTPResponse]:
            if not token_ok(presented_token(request.headers, request.args), self.token):
                return response.json({"error": "a valid token is required"}, status=401)
            return None

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> response.HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> response.HTTPResponse:
            sender_id = await self._extract_sender(request)
            collector = CollectingOutputChannel()
            message = UserMessage(
                self._extract_message(request),
                collector,
                sender_id,
                input_channel=self._extract_input_channel(request),
                metadata=self.get_metadata(request),
            )
            try:
                await on_new_message(message)
            except Exception:
                logger.exception("the turn for %s failed; the hub will retry it", sender_id)
                return response.json({"error": "the turn failed; try again"}, status=500)
            return response.json(collector.messages)

        return webhook
