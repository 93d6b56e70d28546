"""Runs the Rasa server the way ``rasa run --enable-api`` does, with the settings'
interface, port and tokens: the HTTP API requires ``rasa_token``, the only chat
channel is the hub's (also behind ``rasa_token``), no CORS, and calls to the action
server carry ``action_token``. Secrets never appear on a command line.

    python -m bot.internal.rasa_server --model models/support.tar.gz --endpoints var/endpoints.yml
"""

from __future__ import annotations

import argparse
import logging
import urllib.parse
from typing import Any, Dict, List, Optional

from bot.config import PROJECT_ROOT, Settings, get_settings
from bot.internal import rasa_patches
from bot.internal.tokens import bearer


def store_options(url: str) -> Dict[str, Any]:
    """A tracker or lock store's endpoint options from its URL (postgresql://user:pw@host:port/db,
    redis://:pw@host:port/db): the password stays in the environment, never in a file."""
    parts = urllib.parse.urlsplit(url)
    name = urllib.parse.unquote(parts.path.lstrip("/"))
    options: Dict[str, Any] = {"url": parts.hostname, "port": parts.port}
    if parts.username:
        options["username"] = urllib.parse.unquote(parts.username)
    if parts.password:
        options["password"] = urllib.parse.unquote(parts.password)
    if parts.scheme == "postgresql":
        options.update(type="SQL", dialect="postgresql", db=name or "rasa")
    else:
        options.update(type="redis", db=int(name or 0), use_ssl=parts.scheme == "rediss")
    return {key: value for key, value in options.items() if value is not None}


def endpoints_for(settings: Settings, path: str):
    """The endpoints file's tracker store and lock store, unless the settings name shared ones
    (several Rasa servers), with the action server's URL and token from the settings (so the
    file itself holds no secret)."""
    from rasa.core.utils import AvailableEndpoints
    from rasa.utils.endpoints import EndpointConfig

    endpoints = AvailableEndpoints.read_endpoints(path)
    endpoints.action = EndpointConfig(url=settings.action.url, headers={"Authorization": bearer(settings.action.token)})
    if settings.rasa.tracker_store_url:
        endpoints.tracker_store = EndpointConfig(**store_options(settings.rasa.tracker_store_url))
    if settings.rasa.lock_store_url:
        endpoints.lock_store = EndpointConfig(**store_options(settings.rasa.lock_store_url))
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
    rasa_patches.apply()
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
