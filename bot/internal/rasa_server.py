"""Runs the Rasa server the way ``rasa run --enable-api`` does, with the settings'
interface, port and tokens: the HTTP API requires ``rasa_token``, the only chat
channel is the hub's (also behind ``rasa_token``), no CORS, and calls to the action
server carry ``action_token``. Secrets never appear on a command line.

    python -m bot.internal.rasa_server --model models/support.tar.gz --endpoints var/endpoints.yml
"""

from __future__ import annotations

import argparse
import logging
from typing import List, Optional

from bot.config import PROJECT_ROOT, Settings, get_settings
from bot.internal.tokens import bearer


def endpoints_for(settings: Settings, path: str):
    """The endpoints file's tracker store and lock store, with the action server's URL and token
    from the settings (so the file itself holds no secret)."""
    from rasa.core.utils import AvailableEndpoints
    from rasa.utils.endpoints import EndpointConfig

    endpoints = AvailableEndpoints.read_endpoints(path)
    endpoints.action = EndpointConfig(url=settings.action.url, headers={"Authorization": bearer(settings.action.token)})
    return endpoints


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--endpoints", required=True)
    parser.add_argument("--credentials", default=str(PROJECT_ROOT / "credentials.yml"))
    args = parser.parse_args(argv)
    settings = get_settings()

    import rasa.core.run
    import rasa.utils.tensorflow.environment as tf_env
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.INFO, warn_only_once=True, filter_repeated_logs=True)
    configure_structlog(logging.INFO)
    tf_env.setup_tf_environment()
    rasa.core.run.serve_application(
        model_path=args.model,
        credentials=args.credentials,
        interface=settings.rasa.host,
        port=settings.rasa.port,
        cors=None,
        auth_token=settings.rasa.token,
        enable_api=True,
        endpoints=endpoints_for(settings, args.endpoints),
    )


if __name__ == "__main__":
    main()
