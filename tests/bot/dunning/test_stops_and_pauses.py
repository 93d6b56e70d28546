"""Reminders stop (paid, disputed, written off, opted out, bounced), pause (a promise, a person
holding the conversation, quiet hours) and resume after a broken promise, telling an agent."""

from decimal import Decimal

import pytest
from sqlalchemy import select, update

from bot.accounts.models import Payment, PromiseToPay
from bot.conversations import handoffs, store
from bot.conversations.models import Conversation, Handoff, Note
from bot.db import session_scope
from tests.bot.dunning.conftest import at


@pytest.mark.parametrize("status", ["paid", "disputed", "written_off", "void"])
async def test_a_closed_or_disputed_invoice_gets_nothing(world, status):
    await world.customer([3, 30], status=status)
    report = await world.run(at(0))
    assert report.sent == [] and world.smtp.messages == []


async def test_an_invoice_paid_in_full_by_payments_gets_nothing(world):
    made = await world.customer([3])
    async with session_scope(world.url) as session:
        session.add(Payment(invoice_id=made.invoice_ids[0], amount=Decimal("120.00"), currency="USD",
                            paid_at=at(-1), method="card"))
    report = await world.run(at(0))
    assert report.sent == [] and report.held == {"paid in full": 1}


@pytest.mark.parametrize("flags, reason", [
    (dict(opted_out=True), "opted out of reminders"),
    (dict(undeliverable=True), "email address bounced"),
])
async def test_opted_out_and_bounced_customers_get_no_email(world, flags, reason):
    made = await world.customer([3], **flags)
    report = await world.run(at(0))
    assert report.sent == [] and report.held == {reason: 1} and world.smtp.messages == []
    assert await world.claims() == []


async def promise(world, made, days_ahead, amount=None, invoice=True):
    async with session_scope(world.url) as session:
        session.add(PromiseToPay(customer_id=made.customer_id, invoice_id=made.invoice_ids[0] if invoice else None,
                                 kind="promise", amount=amount, currency="USD", status="active", channel="chat",
                                 promised_date=at(days_ahead).date(), created_at=at(-2)))


async def promise_status(world, made):
    async with session_scope(world.url) as session:
        return (await session.execute(select(PromiseToPay.status).where(
            PromiseToPay.customer_id == made.customer_id))).scalar_one()


async def queue_items(world, made):
    async with session_scope(world.url) as session:
        rows = (await session.execute(
            select(Conversation.status, Handoff.reason, Note.text, Note.agent_id)
            .join(Handoff, Handoff.conversation_id == Conversation.id)
            .join(Note, Note.conversation_id == Conversation.id)
            .where(Conversation.customer_id == made.customer_id))).all()
    return rows


async def test_a_promise_pauses_until_its_date_and_a_broken_one_resumes_and_tells_an_agent(world):
    made = await world.customer([25], sent=["upcoming", "friendly"])
    await promise(world, made, days_ahead=6)
    paused = await world.run(at(5))  # 30 days overdue: firm is due, but the promise holds it
    assert paused.sent == [] and paused.held == {f"promise to pay by {at(6).date().isoformat()}": 1}
    assert (await world.run(at(6))).sent == []  # the promised day itself still counts

    broken = await world.run(at(7))
    assert broken.sent == [f"firm reminder for {made.numbers[0]} to {made.email}"]
    assert len(broken.promises_broken) == 1 and await promise_status(world, made) == "broken"
    ((status, reason, note, agent),) = await queue_items(world, made)
    assert (status, reason, agent) == ("pending", "broken_promise", None)
    assert made.numbers[0] in note and "promised to pay" in note and "$120.00 is still owed" in note

    # The alert waiting in the queue does not pause the schedule; an agent taking it does.
    assert (await world.run(at(37))).sent == [f"final reminder for {made.numbers[0]} to {made.email}"]
    async with session_scope(world.url) as session:
        await session.execute(update(Conversation).where(Conversation.customer_id == made.customer_id)
                              .values(status="assigned"))
    held = await world.run(at(67))
    assert held.sent == [] and held.held == {"a person holds the customer's conversation": 1}
    assert len(await queue_items(world, made)) == 1  # told once


async def test_a_kept_promise_is_marked_kept_without_an_alert(world):
    made = await world.customer([25], sent=["upcoming", "friendly"])
    await promise(world, made, days_ahead=2, amount=Decimal("50.00"))
    async with session_scope(world.url) as session:
        session.add(Payment(invoice_id=made.invoice_ids[0], amount=Decimal("50.00"), currency="USD",
                            paid_at=at(1), method="card"))
    report = await world.run(at(3))
    assert len(report.promises_kept) == 1 and report.promises_broken == []
    assert await promise_status(world, made) == "kept" and await queue_items(world, made) == []


async def test_a_person_holding_the_conversation_pauses_reminders(world):
    made = await world.customer([3], sent=["upcoming"])
    async with session_scope(world.url) as session:
        conversation = await store.create_conversation(session, "web", f"s-{made.account_number}", at(0))
        await store.update_conversation(session, conversation, at(0), customer_id=made.customer_id)
        await store.change_status(session, conversation, ("bot",), "pending", at(0))
        await handoffs.create_handoff(session, conversation, "asked_for_person", 2, {}, at(0))
    report = await world.run(at(0))
    assert report.sent == [] and report.held == {"a person holds the customer's conversation": 1}
    async with session_scope(world.url) as session:  # the agent hands it back
        await session.execute(update(Conversation).where(Conversation.id == conversation.id).values(status="bot"))
    assert len((await world.run(at(0, hour=13))).sent) == 1  # handed back: the reminder goes out


async def test_quiet_hours_wait_for_the_customers_morning(world):
    tokyo = await world.customer([3], sent=["upcoming"], timezone="Asia/Tokyo")
    new_york = await world.customer([3], sent=["upcoming"])
    noon_in_new_york = await world.run(at(0, hour=12))  # 02:00 in Tokyo
    assert noon_in_new_york.sent == [f"friendly reminder for {new_york.numbers[0]} to {new_york.email}"]
    assert noon_in_new_york.held == {"quiet hours in the customer's time zone": 1}
    evening = await world.run(at(0, hour=19))  # 09:00 in Tokyo
    assert evening.sent == [f"friendly reminder for {tokyo.numbers[0]} to {tokyo.email}"]
