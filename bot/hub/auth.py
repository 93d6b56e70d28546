"""Console sign-in: the session cookie, and finding the signed-in agent for a
request or a socket connection. Sessions live in the database and expire."""

from __future__ import annotations

import datetime as dt
from http.cookies import CookieError, SimpleCookie
from typing import Any, Dict, Optional
from urllib.parse import urlsplit

from bot.db import agents as agent_data
from bot.db import session_scope
from bot.db.hub_models import Agent
from bot.hub.routing import utcnow

COOKIE = "bot_console"


def token_from_cookie_header(header: Optional[str]) -> Optional[str]:
    if not header:
        return None
    try:
        cookie = SimpleCookie(header)
    except CookieError:
        return None
    morsel = cookie.get(COOKIE)
    return morsel.value if morsel else None


async def agent_for_token(db_url: str, token: Optional[str], now: Optional[dt.datetime] = None) -> Optional[Agent]:
    if not token:
        return None
    async with session_scope(db_url) as session:
        return await agent_data.agent_for_token(session, token, now or utcnow())


def same_origin(environ: Dict[str, Any]) -> bool:
    """A browser's socket from another site carries its Origin; only our own may open the console."""
    origin = environ.get("HTTP_ORIGIN")
    if not origin:
        return True  # not a browser
    return urlsplit(origin).netloc == environ.get("HTTP_HOST")
