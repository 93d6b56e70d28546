"""Filter: a feedback report (the recipient marked our mail as spam) stops reminders to that
address and tells an agent. Never answered."""

from __future__ import annotations

import logging
from typing import Optional

from bot.email import feedback_reports, store
from bot.email.inbound import agents
from bot.email.inbound.arrival import Arrival, Outcome

logger = logging.getLogger(__name__)


async def run(arrival: Arrival, session) -> Optional[Outcome]:
    report = feedback_reports.parse_feedback_report(arrival.raw)
    if report is None:
        return None
    original = (
        await store.outbound_by_message_id(session, report.original_message_id) if report.original_message_id else None
    )
    complainers = report.complainers or ([original.to_address.lower()] if original else [])
    mail = arrival.mail
    session.add(arrival.record(original.conversation_id if original else None, "feedback report", report.problems))
    who = ", ".join(complainers) or "an unknown address"
    detail = f"{report.feedback_type} report about our mail to {who}"
    if complainers:
        await store.mark_customers(session, complainers, reminders_opt_out=True)
        note = (
            f"{who} reported our email as spam ({report.feedback_type} report from "
            f"{mail.from_address or 'a mailbox provider'}). Reminders to this address are stopped; "
            "please contact the customer another way before writing again."
        )
        told = await agents.tell(
            session,
            lifecycle=arrival.lifecycle,
            note=note,
            reason="email_complaint",
            original=original,
            original_message_id=report.original_message_id,
            addresses=complainers,
            now=arrival.now,
        )
        logger.warning(
            "feedback report %s: %s%s", arrival.message_id, detail, "" if told else " (not about anyone we know)"
        )
    return Outcome(arrival.message_id, "feedback_report", detail=detail)
