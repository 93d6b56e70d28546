"""A thin asyncio IMAP client for the support inbox (aioimaplib underneath).

Which messages still need processing is kept ON THE SERVER as an IMAP keyword
(``$BotProcessed`` by default), not by \\Seen and not by UIDs stored locally:
- \\Seen belongs to people: an agent opening the inbox in a mail client would
  otherwise make the bot skip a message, and the bot would mark mail read
  that nobody has read. Fetching uses BODY.PEEK so \\Seen is left alone.
- A keyword survives restarts, a second bot process and a UIDVALIDITY reset,
  with no local state to lose.
So ``fetch_unprocessed`` returns every message without the keyword; the caller
stores each one (deduplicated by Message-ID) and only then calls
``mark_processed(uid)``. A crash between the two means the message comes back
next time, never that it is lost. The server must allow custom keywords
(PERMANENTFLAGS contains \\* or the keyword); Dovecot, Gmail, Fastmail, Cyrus
and Exchange Online do. Otherwise ``connect`` raises ImapError.

Settings are arguments: this module never reads the environment.
"""

from __future__ import annotations

import asyncio
import re
import ssl as ssl_module
from typing import List, Optional, Tuple

import aioimaplib

DEFAULT_KEYWORD = "$BotProcessed"
_UID_RE = re.compile(rb"\bUID (\d+)")
_KEYWORD_RE = re.compile(r"^\$?[A-Za-z0-9_.\-]{1,64}$")


class ImapError(Exception):
    """The IMAP server refused something (a NO/BAD answer, unsupported feature)."""


class ImapUnavailable(ImapError):
    """The server could not be reached, timed out or dropped the connection: retry later."""


class ImapAuthFailed(ImapError):
    """The server rejected the user name or password: retrying will not help."""


class ImapInbox:
    """One logged-in connection to one folder. Use ``async with`` or connect()/logout()."""

    def __init__(
        self,
        host: str,
        port: int,
        user: str,
        password: str,
        *,
        folder: str = "INBOX",
        use_ssl: bool = False,
        ssl_context: Optional[ssl_module.SSLContext] = None,
        timeout: float = 30.0,
        keyword: str = DEFAULT_KEYWORD,
        batch_size: int = 50,
    ) -> None:
        if not _KEYWORD_RE.match(keyword):
            raise ValueError(f"not a valid IMAP keyword: {keyword!r}")
        self.host, self.port, self.user, self._password = host, port, user, password
        self.folder = folder
        self.use_ssl = use_ssl
        self.ssl_context = ssl_context
        self.timeout = timeout
        self.keyword = keyword
        self.batch_size = batch_size
        self.uidvalidity: Optional[int] = None
        self._client: Optional[aioimaplib.IMAP4] = None
        self._lost = asyncio.Event()  # set when the server closes the connection

    async def __aenter__(self) -> "ImapInbox":
        await self.connect()
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self.logout()

    @property
    def supports_idle(self) -> bool:
        return self._client is not None and self._client.has_capability("IDLE")

    async def connect(self) -> None:
        """Connect, log in and select the folder."""
        try:
            if self.use_ssl:
                client = aioimaplib.IMAP4_SSL(self.host, self.port, timeout=self.timeout, ssl_context=self.ssl_context)
            else:
                client = aioimaplib.IMAP4(self.host, self.port, timeout=self.timeout)
            self._client = client
            self._lost = asyncio.Event()
            client.protocol.conn_lost_cb = lambda exc: self._lost.set()
            await self._race(client.wait_hello_from_server())
            response = await self._race(client.login(self.user, self._password))
        except (OSError, asyncio.TimeoutError, aioimaplib.AioImapException) as exc:
            await self._abandon()
            raise ImapUnavailable(f"cannot reach IMAP server {self.host}:{self.port}: {exc!r}") from exc
        if response.result != "OK":
            text = _text(response)
            await self._abandon()
            if "UNAVAILABLE" in text.upper():
                raise ImapUnavailable(f"IMAP login temporarily unavailable: {text}")
            raise ImapAuthFailed(f"IMAP login refused for {self.user}: {text}")
        response = await self._call(self._client.select(self.folder), f"SELECT {self.folder}")
        self._check_selected(response)

    def _check_selected(self, response) -> None:
        text = _text(response)
        match = re.search(r"UIDVALIDITY (\d+)", text)
        self.uidvalidity = int(match.group(1)) if match else None
        permanent = re.search(r"PERMANENTFLAGS \(([^)]*)\)", text)
        if permanent and "\\*" not in permanent.group(1).split() and self.keyword not in permanent.group(1).split():
            raise ImapError(f"the server does not store custom keywords in {self.folder}; cannot track {self.keyword}")

    async def fetch_unprocessed(self, limit: Optional[int] = None) -> List[Tuple[int, bytes]]:
        """(uid, raw message) for every message without the keyword, oldest first."""
        response = await self._call(self._connected().uid_search("UNKEYWORD", self.keyword, charset=None), "UID SEARCH")
        uids = sorted(int(token) for line in response.lines[:-1] for token in _decode(line).split() if token.isdigit())
        if limit is not None:
            uids = uids[:limit]
        messages: List[Tuple[int, bytes]] = []
        for start in range(0, len(uids), self.batch_size):
            batch = uids[start : start + self.batch_size]
            uid_set = ",".join(str(uid) for uid in batch)
            response = await self._call(self._connected().uid("fetch", uid_set, "(UID BODY.PEEK[])"), "UID FETCH")
            messages.extend(_fetched(response.lines))
        wanted = set(uids)
        return sorted((uid, raw) for uid, raw in messages if uid in wanted)

    async def mark_processed(self, uid: int) -> None:
        """Set the keyword on ``uid`` so it is never fetched again."""
        await self._call(
            self._connected().uid("store", str(int(uid)), "+FLAGS.SILENT", f"({self.keyword})"), "UID STORE"
        )

    async def wait_for_new(self, timeout: float, poll_interval: float = 30.0) -> bool:
        """Wait up to ``timeout`` seconds for new mail: IDLE when offered, NOOP polling otherwise.

        True when the server announced new messages, False on timeout. Either
        way call ``fetch_unprocessed`` next: mail that arrived just before the
        wait started may have been announced earlier.
        """
        if self._client is None:
            raise ImapUnavailable("not connected")
        if not self.supports_idle:
            return await self._poll(timeout, poll_interval)
        try:
            client = self._client
            idle = await self._race(client.idle_start(timeout=timeout))
            try:
                pushed = await self._race(client.wait_server_push(timeout=timeout + 5))
            finally:
                if not self._lost.is_set():
                    if client.has_pending_idle():
                        client.idle_done()
                    await self._race(asyncio.wait_for(idle, self.timeout))
        except (OSError, asyncio.TimeoutError, aioimaplib.AioImapException) as exc:
            raise ImapUnavailable(f"IMAP IDLE failed: {exc!r}") from exc
        return _announces_new(pushed)

    async def _poll(self, timeout: float, poll_interval: float) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            response = await self._call(self._connected().noop(), "NOOP")
            if _announces_new(response.lines):
                return True
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            await asyncio.sleep(min(poll_interval, remaining))

    async def logout(self) -> None:
        """Log out and close; never raises (the connection may already be gone)."""
        client, self._client = self._client, None
        if client is None:
            return
        try:
            if client.get_state() in ("AUTH", "SELECTED", "NONAUTH") and not self._lost.is_set():
                if client.has_pending_idle():  # LOGOUT would queue behind IDLE
                    client.idle_done()
                await self._race(asyncio.wait_for(client.logout(), min(self.timeout, 5)))
        except Exception:
            pass
        _close_transport(client)

    async def _abandon(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            _close_transport(client)

    def _connected(self) -> aioimaplib.IMAP4:
        """The client, to build a command with (before _call awaits it); ImapUnavailable when there is none."""
        if self._client is None:
            raise ImapUnavailable("not connected")
        return self._client

    async def _call(self, coroutine, what: str):
        try:
            response = await self._race(coroutine)
        except (OSError, asyncio.TimeoutError, aioimaplib.AioImapException) as exc:
            raise ImapUnavailable(f"IMAP {what} failed: {exc!r}") from exc
        except RuntimeError as exc:
            # Writing to a transport the server already closed, before the loss was reported.
            raise ImapUnavailable(f"IMAP {what} failed: the connection is closed ({exc})") from exc
        if response.result != "OK":
            raise ImapError(f"IMAP {what} answered {response.result}: {_text(response)}")
        return response

    async def _race(self, awaitable):
        """Await ``awaitable``, but fail at once when the connection drops.

        aioimaplib leaves a command waiting for its full timeout when the
        server goes away; the connection-lost callback ends that wait early.
        """
        task = asyncio.ensure_future(awaitable)
        lost = asyncio.ensure_future(self._lost.wait())
        try:
            done, _ = await asyncio.wait({task, lost}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            lost.cancel()
        if task in done:
            return task.result()
        task.cancel()
        raise ConnectionResetError("the IMAP server closed the connection")


def _fetched(lines) -> List[Tuple[int, bytes]]:
    """Pairs of (uid, literal) from a FETCH response: a '... UID n ... BODY[] {size}' line, then the bytes."""
    out = []
    pending_uid = None
    for line in lines:
        if isinstance(line, bytearray):
            if pending_uid is not None:
                out.append((pending_uid, bytes(line)))
                pending_uid = None
            continue
        match = _UID_RE.search(line) if b"FETCH" in line else None
        if match:
            pending_uid = int(match.group(1))
    return out


def _announces_new(lines) -> bool:
    return any(
        isinstance(line, (bytes, bytearray)) and re.search(rb"^\d+ EXISTS\b", bytes(line)) for line in lines or []
    )


def _decode(line) -> str:
    return bytes(line).decode("utf-8", "replace") if isinstance(line, (bytes, bytearray)) else str(line)


def _text(response) -> str:
    return " ".join(_decode(line) for line in response.lines)


def _close_transport(client) -> None:
    transport = getattr(getattr(client, "protocol", None), "transport", None)
    if transport is not None:
        transport.close()
