"""A run sends each stage on its day, to the real SMTP server, and records it once."""

from decimal import Decimal

import pytest
from sqlalchemy import select

from bot.accounts.models import Invoice
from bot.conversations.models import Conversation, Handoff, Note
from bot.db import session_scope
from bot.dunning.models import Reminder
from bot.dunning.policy import load_policy
from tests.bot.dunning.conftest import at

STAGES = [(s.name, s.day) for s in load_policy().stages]
EARLIER = {name: [n for n, d in STAGES if d < day] for name, day in STAGES}


@pytest.mark.parametrize("stage, day", STAGES)
async def test_each_stage_goes_out_on_its_day_and_only_then(world, stage, day):
    # The invoice reaches the stage's day tomorrow; its earlier stages went out already.
    made = await world.customer([day - 1], sent=EARLIER[stage])
    before = await world.run(at(0))
    assert before.sent == [] and world.smtp.messages == []

    report = await world.run(at(1))
    assert report.sent == [f"{stage} reminder for {made.numbers[0]} to {made.email}"] and report.ok
    (mail,) = world.mail_to(made.email)
    assert mail["Message-ID"] == f"<reminder.{made.numbers[0]}.{stage}@northwind.example>"
    assert mail["References"] == f"<dunning.{made.numbers[0]}@northwind.example>"
    assert mail["Auto-Submitted"] == "auto-generated"
    assert made.numbers[0] in mail["Subject"]
    assert world.smtp.envelopes[0].rcpt_tos == [made.email]
    assert await world.stages(made.invoice_ids[0]) == EARLIER[stage] + [stage]
    async with session_scope(world.url) as session:
        reminder = (await session.execute(select(Reminder).where(
            Reminder.invoice_id == made.invoice_ids[0], Reminder.stage == stage))).scalar_one()
    assert reminder.message_id == mail["Message-ID"] and reminder.channel == "email"
    assert [c.state for c in await world.claims()] == ["done"]

    again = await world.run(at(1, hour=15))
    assert again.sent == [] and len(world.smtp.messages) == 1


async def test_a_late_start_sends_only_the_stage_reached(world):
    made = await world.customer([45])  # no history at all
    report = await world.run(at(0))
    assert report.sent == [f"firm reminder for {made.numbers[0]} to {made.email}"]
    assert await world.stages(made.invoice_ids[0]) == ["firm"]


async def test_the_final_notice_adds_the_late_fee_once(world):
    made = await world.customer([60], sent=["upcoming", "friendly", "firm"])
    await world.run(at(0))
    (mail,) = world.mail_to(made.email)
    assert "a late fee of $25.00 has been added" in mail.get_body(("plain",)).get_content()
    async with session_scope(world.url) as session:
        invoice = await session.get(Invoice, made.invoice_ids[0])
        assert invoice.late_fee == Decimal("25.00")


async def test_collections_hands_the_account_to_a_person(world):
    made = await world.customer([90, 95], sent=["upcoming", "friendly", "firm", "final"])
    report = await world.run(at(0))
    assert len(report.sent) == 2  # both invoices reached collections in the same run
    async with session_scope(world.url) as session:
        rows = (await session.execute(
            select(Conversation, Handoff).join(Handoff, Handoff.conversation_id == Conversation.id)
            .where(Conversation.customer_id == made.customer_id).order_by(Conversation.id))).all()
        notes = (await session.execute(select(Note.text, Note.agent_id).where(
            Note.conversation_id.in_([c.id for c, _ in rows])))).all()
    assert sorted((c.status, c.channel, c.session_key, h.reason) for c, h in rows) == [
        ("pending", "email", f"dunning:{n}", "collections") for n in sorted(made.numbers)]
    assert all(agent is None and "collections stage" in text for text, agent in notes)

    # A person now holds the customer: a newer invoice's reminder waits.
    newer = await world.customer([3])
    report = await world.run(at(0), customers=[made.customer_id, newer.customer_id])
    assert report.sent == [f"friendly reminder for {newer.numbers[0]} to {newer.email}"]
