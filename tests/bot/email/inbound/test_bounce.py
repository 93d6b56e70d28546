"""The bounce filter on a real database: what is marked, when a soft bounce turns hard, who is told."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from bot.db import session_scope
from bot.email.models import BouncedAddress, InboundEmail
from bot.conversations.models import Conversation, Note
from bot.email.inbound import bounce
from tests.bot.email.inbound.conftest import NOW, arrival, customer


def qmail_bounce(address: str, remote: str, n: int = 1, when: str = "does not like recipient.") -> bytes:
    return (f"Return-Path: <>\r\nFrom: MAILER-DAEMON@mx.example.com\r\nTo: billing@northwind.example\r\n"
            f"Subject: failure notice\r\nMessage-ID: <qmail-{n}@mx.example.com>\r\n\r\n"
            "Hi. This is the qmail-send program at mx.example.com.\r\n"
            "I'm afraid I wasn't able to deliver your message to the following addresses.\r\n\r\n"
            f"<{address}>:\r\n192.0.2.1 {when}\r\nRemote host said: {remote}\r\n\r\n"
            "--- Below this line is a copy of the message.\r\n\r\n"
            f"To: {address}\r\nFrom: billing@northwind.example\r\nSubject: Payment reminder\r\n\r\nHi\r\n").encode()


async def run(raw: bytes, now=NOW):
    async with session_scope() as session:
        return await bounce.run(arrival(raw, now), session)


async def test_a_hard_bounce_of_a_customer_marks_the_address_and_queues_the_customer(db):
    outcome = await run(qmail_bounce("li.wei@example.com", "550 5.1.1 <li.wei@example.com>... User Unknown"))
    assert outcome.action == "bounce" and outcome.detail.startswith("hard bounce for li.wei@example.com")
    assert (await customer("li.wei@example.com")).email_undeliverable
    async with session_scope() as session:
        (row,) = (await session.execute(select(BouncedAddress))).scalars().all()
        conversation = await session.scalar(select(Conversation).where(
            Conversation.session_key == "email-report:li.wei@example.com"))
        notes = (await session.execute(select(Note).where(Note.conversation_id == conversation.id))).scalars().all()
        stored = await session.scalar(select(InboundEmail).where(InboundEmail.message_id == "qmail-1@mx.example.com"))
    assert (row.address, row.hard, row.reason, row.status) == ("li.wei@example.com", True, "userunknown", "5.1.1")
    assert conversation.status == "pending" and conversation.customer_id == (await customer("li.wei@example.com")).id
    assert "Email undeliverable" in notes[0].text
    assert stored.automatic_reason == "bounce"


async def test_a_soft_bounce_changes_nothing_until_it_repeats(db):
    full = "552 5.2.2 <li.wei@example.com>... Mailbox full"
    for n in (1, 2):
        outcome = await run(qmail_bounce("li.wei@example.com", full, n), NOW + dt.timedelta(days=n))
        assert outcome.detail.startswith("soft bounce")
        assert not (await customer("li.wei@example.com")).email_undeliverable
    outcome = await run(qmail_bounce("li.wei@example.com", full, 3), NOW + dt.timedelta(days=3))
    # The third soft bounce in 30 days (BOT_EMAIL_SOFT_BOUNCES_UNTIL_HARD=3) counts as hard.
    assert outcome.detail.startswith("hard bounce")
    assert (await customer("li.wei@example.com")).email_undeliverable


async def test_soft_bounces_long_ago_do_not_add_up(db):
    full = "552 5.2.2 <li.wei@example.com>... Mailbox full"
    for n in (1, 2):
        await run(qmail_bounce("li.wei@example.com", full, n), NOW - dt.timedelta(days=60 + n))
    await run(qmail_bounce("li.wei@example.com", full, 3), NOW)
    assert not (await customer("li.wei@example.com")).email_undeliverable


async def test_a_bounce_about_a_stranger_changes_nothing_and_tells_nobody(db):
    outcome = await run(qmail_bounce("stranger@nowhere.example", "550 5.1.1 User unknown"))
    assert outcome.action == "bounce"
    async with session_scope() as session:
        assert (await session.execute(select(Note))).scalars().all() == []


async def test_ordinary_mail_passes_on(db):
    raw = b"From: Ann <ann@example.com>\r\nSubject: My bill\r\nMessage-ID: <q@example.com>\r\n\r\nWhat do I owe?\r\n"
    assert await run(raw) is None


async def test_refusals_of_our_own_mail_never_add_up_against_the_address(db):
    blocked = "554 5.7.1 Service unavailable; client host [192.0.2.1] blocked using zen.spamhaus.org"
    for n in (1, 2, 3, 4):
        outcome = await run(qmail_bounce("li.wei@example.com", blocked, n), NOW + dt.timedelta(hours=n))
        assert outcome.detail.startswith("soft bounce")
    assert not (await customer("li.wei@example.com")).email_undeliverable


async def test_a_user_unknown_answering_data_is_soft_but_three_of_them_mark_the_address(db):
    # After DATA the server had accepted the recipient: "User unknown" there is how filtering
    # gateways refuse a sender, so one is not proof. Repeated, it is as telling as a full mailbox.
    unknown = "550 User unknown"
    for n in (1, 2):
        outcome = await run(qmail_bounce("li.wei@example.com", unknown, n, "failed after I sent the message."),
                            NOW + dt.timedelta(days=n))
        assert outcome.detail.startswith("soft bounce")
        assert not (await customer("li.wei@example.com")).email_undeliverable
    outcome = await run(qmail_bounce("li.wei@example.com", unknown, 3, "failed after I sent the message."),
                        NOW + dt.timedelta(days=3))
    assert outcome.detail.startswith("hard bounce")
    assert (await customer("li.wei@example.com")).email_undeliverable
    async with session_scope() as session:
        reasons = (await session.execute(select(BouncedAddress.reason))).scalars().all()
    assert reasons == ["filtered"] * 3


async def test_the_same_words_answering_rcpt_are_hard_at_once(db):
    outcome = await run(qmail_bounce("li.wei@example.com", "550 User unknown"))
    assert outcome.detail.startswith("hard bounce")
    assert (await customer("li.wei@example.com")).email_undeliverable
