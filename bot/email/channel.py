"""The email channel inside the hub: watches the IMAP inbox (IDLE where the
server offers it, polling otherwise) and runs the outbox.

A message is marked processed on the server only after the inbox stored it, so a
crash between fetching and storing loses nothing (it is fetched again) and a
crash after storing duplicates nothing (the Message-ID is already known).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Callable, List, Optional

from bot.config import Settings
from bot.email.imap import ImapError, ImapInbox
from bot.email.inbox import Inbox, Outcome
from bot.email.outbox import EmailOutbox
from bot.hub.routing import Router

logger = logging.getLogger(__name__)


class EmailChannel:
    def __init__(self, settings: Settings, router: Router, clock: Callable[[], dt.datetime]) -> None:
        self.settings = settings
        self.inbox = Inbox(settings, router, clock)
        self.outbox = EmailOutbox(settings, router.db_url, router.busy, clock)
        self._tasks: List[asyncio.Task] = []
        self._stopping = False

    def mailbox(self) -> ImapInbox:
        s = self.settings
        return ImapInbox(s.imap_host, s.imap_port, s.imap_username, s.imap_password,
                         folder=s.imap_folder, use_ssl=s.imap_security == "tls")

    async def check_inbox(self, mailbox: ImapInbox) -> List[Outcome]:
        """Fetches, stores and routes every unprocessed message; marks each processed after."""
        outcomes = []
        for uid, raw in await mailbox.fetch_unprocessed():
            try:
                outcome = await self.inbox.process(raw)
            except Exception:
                # Left unprocessed on the server: tried again on the next pass, nothing lost.
                logger.exception("could not store inbound email uid %s; will retry", uid)
                continue
            await mailbox.mark_processed(uid)
            logger.info("email %s: %s %s", outcome.message_id, outcome.action, outcome.detail)
            outcomes.append(outcome)
        if outcomes:
            self.outbox.wake.set()
        return outcomes

    async def watch_inbox(self) -> None:
        backoff = 1.0
        # The flag as well as the cancellation: a library's wait_for may swallow a cancel.
        while not self._stopping:
            mailbox: Optional[ImapInbox] = None
            try:
                mailbox = self.mailbox()
                await mailbox.connect()
                backoff = 1.0
                while not self._stopping:
                    await self.check_inbox(mailbox)
                    await mailbox.wait_for_new(self.settings.email_poll_seconds * 12,
                                               poll_interval=self.settings.email_poll_seconds)
            except asyncio.CancelledError:
                raise
            except (ImapError, OSError, asyncio.TimeoutError) as exc:
                logger.warning("IMAP inbox unavailable (%s); retrying in %.0f s", exc, backoff)
            except Exception:
                logger.exception("email inbox watcher failed; restarting in %.0f s", backoff)
            finally:
                if mailbox is not None:
                    await mailbox.logout()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 60.0)

    def start(self) -> None:
        self._stopping = False
        self._tasks = [asyncio.ensure_future(self.watch_inbox()), asyncio.ensure_future(self.outbox.run())]

    async def stop(self) -> None:
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
