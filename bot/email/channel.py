"""The email channel inside the hub: watches the IMAP inbox (IDLE where the
server offers it, polling otherwise) and runs the outbound queue.

A message is marked processed on the server only after the inbox stored it, so a
crash between fetching and storing loses nothing (it is fetched again) and a
crash after storing duplicates nothing (the Message-ID is already known).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Callable, List

from bot.config import Settings
from bot.conversations.intake import Intake
from bot.email.imap import ImapError, ImapInbox
from bot.email.inbound import Inbox, Outcome
from bot.email.outbound_queue import OutboundQueue
from bot.loops import Loop

logger = logging.getLogger(__name__)


class EmailChannel:
    def __init__(self, settings: Settings, router: Intake, clock: Callable[[], dt.datetime]) -> None:
        self.settings = settings
        self.inbox = Inbox(settings, router, clock)
        self.outbound = OutboundQueue(settings, router.db_url, router.busy, clock)
        # One pass of this loop is the whole watch; Loop gives it the stop signal and grace period.
        self.inbox_loop = Loop("email inbox", self.watch_inbox, settings.email.poll_seconds)

    def mailbox(self) -> ImapInbox:
        s = self.settings
        return ImapInbox(
            s.imap.host,
            s.imap.port,
            s.imap.username,
            s.imap.password,
            folder=s.imap.folder,
            use_ssl=s.imap.security == "tls",
        )

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
            self.outbound.loop.wake.set()
        return outcomes

    async def watch_inbox(self) -> None:
        """Checks the inbox whenever the server announces mail (or every poll interval)."""
        backoff = 1.0
        while not self.inbox_loop.stopping:
            mailbox = self.mailbox()
            try:
                await mailbox.connect()
                backoff = 1.0
                while not self.inbox_loop.stopping:
                    await self.check_inbox(mailbox)
                    # Only this wait is interrupted on stop; a pass over the inbox always completes.
                    idle = asyncio.ensure_future(
                        mailbox.wait_for_new(
                            self.settings.email.poll_seconds * 12, poll_interval=self.settings.email.poll_seconds
                        )
                    )
                    await self.inbox_loop.unless_stopped(idle)
            except (ImapError, OSError, asyncio.TimeoutError) as exc:
                logger.warning("IMAP inbox unavailable (%s); retrying in %.0f s", exc, backoff)
            finally:
                await mailbox.logout()
            await self.inbox_loop.sleep(backoff)
            backoff = min(backoff * 2, 60.0)

    def start(self) -> None:
        self.inbox_loop.start()
        self.outbound.loop.start()

    async def stop(self) -> None:
        await self.inbox_loop.stop()
        await self.outbound.loop.stop()
