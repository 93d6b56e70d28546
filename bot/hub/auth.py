"""Console sign-in: the session cookie, and finding the signed-in agent for a
request or a socket connection. Sessions live in the database and expire."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict, deque
from http.cookies import CookieError, SimpleCookie
from typing import Any, Deque, Dict, Optional
from urllib.parse import urlsplit

from bot.conversations import agents as agent_data
from bot.conversations.intake import utcnow
from bot.conversations.models import Agent
from bot.db import session_scope

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


class LoginThrottle:
    """Slows password guessing: after ``limit`` failures for one email within
    ``window``, sign-in for it is refused until the oldest failure ages out."""

    def __init__(self, limit: int = 5, window: dt.timedelta = dt.timedelta(minutes=15)) -> None:
        self.limit = limit
        self.window = window
        self._failures: Dict[str, Deque[dt.datetime]] = defaultdict(deque)

    def _recent(self, email: str, now: dt.datetime) -> Deque[dt.datetime]:
        failures = self._failures[email.strip().lower()]
        while failures and now - failures[0] >= self.window:
            failures.popleft()
        return failures

    def retry_after(self, email: str, now: dt.datetime) -> Optional[int]:
        """Seconds until sign-in may be tried again, or None when it may be tried now."""
        failures = self._recent(email, now)
        if len(failures) < self.limit:
            return None
        return max(1, int((failures[0] + self.window - now).total_seconds()))

    def failed(self, email: str, now: dt.datetime) -> None:
        self._recent(email, now).append(now)

    def succeeded(self, email: str) -> None:
        self._failures.pop(email.strip().lower(), None)
