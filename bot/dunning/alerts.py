"""Telling an agent: an item in the console's queue, with a note saying why.

The dunning engine has no conversation with the customer, so it opens one on the
email channel keyed by the invoice ("dunning:INV-20015"), linked to the customer
(the console shows their account beside it), moves it to the queue with a handoff
whose reason is "broken_promise" or "collections", and leaves a system note (no
agent) with the details. A second alert for the same invoice while the first is
still open only adds a note.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Dict, Optional

from bot.conversations.lifecycle import Lifecycle, invoice_matter_key

COLLECTIONS = "collections"


async def alert_agents(
    session,
    *,
    customer_id: int,
    invoice_number: str,
    reason: str,
    note: str,
    summary: Dict[str, Any],
    now: dt.datetime,
    lifecycle: Optional[Lifecycle] = None,
) -> int:
    """Queues the customer's invoice for a person; returns the conversation's id.

    The engine runs on its own (``bot dunning run``), so by default nobody subscribes to the
    change: the hub's queue watch (bot/hub/queue_watch.py) shows it to the consoles."""
    return await (lifecycle or Lifecycle()).alert(
        session,
        session_key=invoice_matter_key(invoice_number),
        customer_id=customer_id,
        known_by="our_records",
        reason=reason,
        note=note,
        summary={"source": "dunning", **summary},
        now=now,
    )
