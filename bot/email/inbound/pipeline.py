"""The inbox: runs each received message through the filters, in this order.

- dedupe: the same message is processed once; the caller marks it processed on
  the IMAP server only after this returns, so a crash loses nothing.
- bounce, feedback_report: machine reports about our own mail; recorded, acted
  on, told to an agent, never answered.
- automatic: notes RFC 3834 and other signs of automatic mail.
- thread: finds or opens the conversation and stores the message there.
- route: holds automatic mail for agents; anything else goes to the router.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Callable

from bot.config import Settings
from bot.conversations.intake import Intake
from bot.db import session_scope
from bot.email import parse
from bot.email.inbound import automatic, bounce, dedupe, feedback_report, route, thread
from bot.email.inbound.arrival import Arrival, Outcome, stable_message_id

logger = logging.getLogger(__name__)

# Run in one transaction, in this order; the first Outcome stops the chain.
FILTERS = (dedupe.run, bounce.run, feedback_report.run, automatic.run, thread.run, route.hold_automatic)


class Inbox:
    def __init__(self, settings: Settings, router: Intake, clock: Callable[[], dt.datetime]) -> None:
        self.settings = settings
        self.router = router
        self.db_url = router.db_url
        self.clock = clock

    async def process(self, raw: bytes) -> Outcome:
        mail = parse.parse(raw)
        arrival = Arrival(
            raw=mail.raw,
            mail=mail,
            message_id=stable_message_id(mail, mail.raw),
            settings=self.settings,
            now=self.clock(),
            lifecycle=self.router.lifecycle,
        )
        for problem in mail.problems:
            logger.warning("inbound email %s: %s", arrival.message_id, problem)
        async with session_scope(self.db_url) as session:
            for step in FILTERS:
                outcome = await step(arrival, session)
                if outcome is not None:
                    return outcome
        return await route.to_router(arrival, self.router)
