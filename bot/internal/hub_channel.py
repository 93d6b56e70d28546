"""The Rasa input channel the hub talks to: Rasa's REST webhook, at
``/webhooks/hub/webhook``, refusing every request without the hub's token.

Rasa's own ``rest`` channel is open to anyone who can reach the port and trusts the
metadata it is sent (channel, verified customer); this one only takes messages from
the hub. Configured in credentials.yml as ``bot.internal.hub_channel.HubInput``.
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request

from bot.config import get_settings
from bot.internal.tokens import presented_token, token_ok


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
        webhook = super().blueprint(on_new_message)

        @webhook.middleware("request")
        async def require_token(request: Request) -> Optional[response.HTTPResponse]:
            if not token_ok(presented_token(request.headers, request.args), self.token):
                return response.json({"error": "a valid token is required"}, status=401)
            return None

        return webhook
