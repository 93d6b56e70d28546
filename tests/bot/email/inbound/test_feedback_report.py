"""The feedback-report filter on a real database: reminders stop, an agent is told, nothing is answered."""

from __future__ import annotations

from sqlalchemy import select

from bot.db import session_scope
from bot.conversations.models import Note
from bot.email.inbound import feedback_report
from tests.bot.email.inbound.conftest import arrival, customer
from tests.bot.email.test_feedback_reports import ARF


async def test_a_complaint_stops_reminders_to_the_address_and_tells_an_agent(db):
    async with session_scope() as session:
        outcome = await feedback_report.run(arrival(ARF), session)
    assert outcome.action == "feedback_report" and "li.wei@example.com" in outcome.detail
    li = await customer("li.wei@example.com")
    assert li.reminders_opt_out and not li.email_undeliverable  # the address works; they just don't want it
    async with session_scope() as session:
        (note,) = (await session.execute(select(Note))).scalars().all()
    assert "reported our email as spam" in note.text


async def test_ordinary_mail_passes_on(db):
    raw = b"From: Ann <ann@example.com>\r\nSubject: Spam?\r\nMessage-ID: <q@example.com>\r\n\r\nIs this email real?\r\n"
    async with session_scope() as session:
        assert await feedback_report.run(arrival(raw), session) is None
