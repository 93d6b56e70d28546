"""Runs the rasa-sdk action server for ``actions/`` on the settings' interface and
port, refusing every call but ``/health`` that lacks the action token (the Rasa
server sends it). No CORS: browsers have no business here.

    python -m bot.internal.action_server
"""

from __future__ import annotations

import logging
from typing import Optional

from sanic import Sanic, response
from sanic.request import Request

from bot.config import Settings, get_settings
from bot.internal.tokens import presented_token, token_ok

OPEN_PATHS = ("/health",)


def build_app(settings: Settings, actions_module: str = "actions.registry") -> Sanic:
    from rasa_sdk.endpoint import create_app

    # The registry imports every action module; rasa-sdk then registers the Action classes.
    app = create_app(actions_module, cors_origins=None)

    @app.middleware("request")
    async def require_token(request: Request) -> Optional[response.HTTPResponse]:
        if request.path in OPEN_PATHS:
            return None
        if not token_ok(presented_token(request.headers, request.args), settings.action.token):
            return response.json({"error": "a valid token is required"}, status=401)
        return None

    return app


def main() -> None:
    from rasa_sdk import utils

    settings = get_settings()
    utils.configure_colored_logging(logging.INFO)
    utils.update_sanic_log_level()
    app = build_app(settings)
    logging.getLogger(__name__).info("Action server on http://%s:%s", settings.action.host, settings.action.port)
    app.run(settings.action.host, settings.action.port, workers=1, access_log=False)


if __name__ == "__main__":
    main()
