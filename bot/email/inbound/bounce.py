"""Filter: a bounce is recorded per failed recipient; a hard one (or the Nth soft one about the
mailbox within 30 days, ``email_soft_bounces_until_hard``) marks the address undeliverable, which
pauses dunning for it, and tells an agent. Never answered."""

from __future__ import annotations

import datetime as dt
import logging
from typing import List, Optional

from bot.email import bounces, store
from bot.email.bounce_reasons import ADDRESS_REASONS
from bot.email.inbound import agents
from bot.email.inbound.arrival import Arrival, Outcome
from bot.email.models import BouncedAddress

logger = logging.getLogger(__name__)

SOFT_BOUNCE_WINDOW = dt.timedelta(days=30)


async def run(arrival: Arrival, session) -> Optional[Outcome]:
    bounce = bounces.parse_bounce(arrival.raw)
    if bounce is None:
        return None
    original = (
        await store.outbound_by_message_id(session, bounce.original_message_id) if bounce.original_message_id else None
    )
    session.add(arrival.record(original.conversation_id if original else None, "bounce", bounce.problems))
    recipients = bounce.recipients or []
    if not recipients and original is not None:
        recipients = [bounces.BouncedRecipient(original.to_address.lower(), "failed", None, None)]
    undeliverable = await _undeliverable(session, arrival, recipients, certain=bounce.certain)
    first = recipients[0] if recipients else None
    why = (first.diagnostic or first.status or first.reason) if first else "no details"
    addresses = [r.address for r in recipients]
    kind = "hard" if undeliverable else "soft"
    detail = f"{kind} bounce for {', '.join(addresses) or 'an unknown address'}: {why}"
    if undeliverable:
        await store.mark_customers(session, undeliverable, email_undeliverable=True)
        note = (
            f"Email undeliverable ({detail}). Reminders to {', '.join(undeliverable)} are paused; "
            "please find another way to reach the customer."
        )
    elif bounce.hard:
        note = (
            f"Possible bounce; the failed address was not named, only guessed ({detail})."
            " Nothing was changed; please check."
        )
    else:
        logger.info("soft bounce %s: %s", arrival.message_id, detail)
        return Outcome(arrival.message_id, "bounce", detail=detail)
    told = await agents.tell(
        session,
        lifecycle=arrival.lifecycle,
        note=note,
        reason="email_bounced",
        original=original,
        original_message_id=bounce.original_message_id,
        addresses=addresses,
        now=arrival.now,
    )
    logger.warning("bounce %s: %s%s", arrival.message_id, detail, "" if told else " (not about anyone we know)")
    return Outcome(arrival.message_id, "bounce", detail=detail)


async def _undeliverable(session, arrival: Arrival, recipients, *, certain: bool) -> List[str]:
    """Records each failed recipient; returns the addresses that are now undeliverable."""
    out = []
    since = arrival.now - SOFT_BOUNCE_WINDOW
    for recipient in recipients[:50]:
        address = recipient.address[:254]
        hard = recipient.hard
        if not hard and recipient.action == "failed" and recipient.reason in ADDRESS_REASONS:
            earlier = await store.soft_bounces_since(session, address, since, sorted(ADDRESS_REASONS))
            hard = earlier + 1 >= arrival.settings.email.soft_bounces_until_hard
        session.add(
            BouncedAddress(
                address=address,
                hard=recipient.hard,
                reason=recipient.reason[:32],
                status=(recipient.status or None),
                inbound_message_id=arrival.message_id,
                received_at=arrival.now,
            )
        )
        if hard and certain:
            out.append(address)
    return out
