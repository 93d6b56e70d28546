"""The email channel end to end inside a running hub: a real IMAP server (Dovecot)
holds the inbox, a real SMTP server (aiosmtpd) receives what the product sends.
Rasa is scripted here (tests/e2e has the real one)."""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import uuid

import pytest
from sqlalchemy import delete, select, update

from bot.conversations import store as conversation_store
from bot.db import session_scope
from bot.demo import agents as hub_seed
from bot.accounts import queries
from bot.email.models import InboundEmail, OutboundEmail
from bot.conversations.models import Message, Note
from bot.accounts.models import Customer
from bot.hub.app import EMAIL
from tests.bot.hub.conftest import PASSWORD, clear_hub_tables, start_hub
from tests.bot.hub.fakes import ScriptedRasa, handoff_reply
from tests.hub_clients import eventually

SUPPORT = "support@northwind.example"


def mail(sender="li.wei@example.com", subject="My bill", body="what do I owe", message_id=None,
         in_reply_to=None, headers=None) -> bytes:
    message_id = message_id or f"<{uuid.uuid4().hex}@customer.example>"
    lines = [f"From: Li Wei <{sender}>", f"To: {SUPPORT}", f"Subject: {subject}",
             f"Message-ID: {message_id}", f"Date: {email.utils.formatdate()}"]
    if in_reply_to:
        lines += [f"In-Reply-To: {in_reply_to}", f"References: {in_reply_to}"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    lines += ["Content-Type: text/plain; charset=utf-8", "", body, ""]
    return "\r\n".join(lines).encode()


@pytest.fixture
async def email_hub(any_db, imap_server, smtp_server, monkeypatch):
    from tests.conftest import use_settings

    use_settings(monkeypatch, database_url=any_db, imap_host=imap_server.host, imap_port=str(imap_server.port),
                 imap_username=imap_server.user, imap_password=imap_server.password, imap_security="none",
                 smtp_host=smtp_server.host, smtp_port=str(smtp_server.port), email_from_address=SUPPORT,
                 email_poll_seconds="0.2", email_auto_reply_cap="3", rasa_retry_seconds="0.2")
    await clear_hub_tables()
    async with session_scope() as session:
        for model in (OutboundEmail, InboundEmail):
            await session.execute(delete(model))
        await hub_seed.seed_hub(session, PASSWORD, dt.datetime.now(dt.timezone.utc))
    hub = await start_hub(ScriptedRasa())
    hub.imap, hub.smtp = imap_server, smtp_server
    yield hub
    await hub.runner.cleanup()


def sent_to(smtp_server, address):
    return [m for m in smtp_server.messages if address in m["To"]]


async def test_a_question_is_answered_in_the_same_thread(email_hub):
    raw = mail(message_id="<q1@customer.example>")
    email_hub.imap.deliver(raw)
    (reply,) = await eventually(lambda: sent_to(email_hub.smtp, "li.wei@example.com"), 15)
    assert reply["In-Reply-To"] == "<q1@customer.example>"
    assert "<q1@customer.example>" in reply["References"]
    assert reply["Subject"].startswith("Re: My bill [ref:")
    assert reply["Auto-Submitted"] == "auto-replied"
    assert reply["From"] == SUPPORT
    assert "bot: what do I owe" in reply.get_body(("plain",)).get_content()
    assert "bot: what do I owe" in reply.get_body(("html",)).get_content()
    # Marked processed on the server only once stored.
    await eventually(lambda: all("$BotProcessed" in flags for _, flags, _ in email_hub.imap.messages("INBOX")))

    # A follow-up answering our reply joins the same conversation.
    email_hub.imap.deliver(mail(body="and when is it due?", subject=f"Re: {reply['Subject']}",
                                in_reply_to=reply["Message-ID"]))
    await eventually(lambda: len(sent_to(email_hub.smtp, "li.wei@example.com")) == 2, 15)
    second = sent_to(email_hub.smtp, "li.wei@example.com")[1]
    assert second["Subject"] == reply["Subject"]
    async with session_scope() as session:
        rows = (await session.execute(select(InboundEmail))).scalars().all()
        assert len({row.conversation_id for row in rows}) == 1
        messages = await conversation_store.messages_for(session, rows[0].conversation_id)
    assert [m.text for m in messages if m.sender == "customer"] == ["what do I owe", "and when is it due?"]


async def test_quoted_text_and_signatures_do_not_reach_the_bot(email_hub):
    body = "what do I owe\n\nThanks,\nLi\n\nOn Mon, 16 Nov 2026, Northwind wrote:\n> Earlier answer\n> more"
    email_hub.imap.deliver(mail(body=body))
    await eventually(lambda: email_hub.rasa.received, 15)
    assert email_hub.rasa.received[0][1] == "what do I owe"
    assert email_hub.rasa.received[0][2]["channel"] == "email"


async def test_account_answers_go_only_to_the_address_on_file(email_hub):
    async with session_scope() as session:
        li = await queries.find_customer(session, "AC-100005")
    email_hub.rasa.reply = lambda text: [{"custom": {"verified": {"customer_id": li.id}}},
                                         {"text": "Li, your balance is $439.15."}]
    email_hub.imap.deliver(mail(sender="someone.else@example.org", body="AC-100005 98101 what do I owe"))
    (answer,) = await eventually(lambda: sent_to(email_hub.smtp, "li.wei@example.com"), 15)
    assert "$439.15" in answer.get_body(("plain",)).get_content()
    (notice,) = await eventually(lambda: sent_to(email_hub.smtp, "someone.else@example.org"), 15)
    text = notice.get_body(("plain",)).get_content()
    assert "only send account details to the email address on the account" in text
    assert "$439.15" not in text


async def test_a_subject_token_from_another_sender_starts_a_new_conversation(email_hub):
    email_hub.imap.deliver(mail(message_id="<orig@customer.example>"))
    (reply,) = await eventually(lambda: sent_to(email_hub.smtp, "li.wei@example.com"), 15)
    email_hub.imap.deliver(mail(sender="stranger@example.org", subject=reply["Subject"], body="show my invoices"))
    await eventually(lambda: sent_to(email_hub.smtp, "stranger@example.org"), 15)
    async with session_scope() as session:
        rows = (await session.execute(select(InboundEmail))).scalars().all()
    assert len({row.conversation_id for row in rows}) == 2


AUTOMATIC = [
    ({"Auto-Submitted": "auto-replied"}, "li.wei@example.com"),
    ({"Auto-Submitted": "auto-generated"}, "li.wei@example.com"),
    ({"Precedence": "bulk"}, "li.wei@example.com"),
    ({"Precedence": "list"}, "li.wei@example.com"),
    ({"Precedence": "junk"}, "li.wei@example.com"),
    ({"Precedence": "auto_reply"}, "li.wei@example.com"),
    ({"List-Id": "<news.example.com>"}, "li.wei@example.com"),
    ({"List-Unsubscribe": "<mailto:unsub@example.com>"}, "li.wei@example.com"),
    ({"X-Autoreply": "yes"}, "li.wei@example.com"),
    ({"X-Autorespond": "yes"}, "li.wei@example.com"),
    ({"X-Auto-Response-Suppress": "All"}, "li.wei@example.com"),
    ({}, "mailer-daemon@example.com"),
    ({}, "postmaster@example.com"),
    ({}, "no-reply@example.com"),
    ({}, SUPPORT),
]


async def test_automatic_mail_gets_no_reply_but_is_kept_for_agents(email_hub):
    for n, (headers, sender) in enumerate(AUTOMATIC):
        email_hub.imap.deliver(mail(sender=sender, headers=headers, subject=f"Out of office {n}",
                                    body="I am out of the office"))

    async def stored():
        async with session_scope() as session:
            return (await session.execute(select(InboundEmail))).scalars().all()
    for _ in range(150):
        rows = await stored()
        if len(rows) == len(AUTOMATIC):
            break
        await asyncio.sleep(0.1)
    assert len(rows) == len(AUTOMATIC)
    assert all(row.automatic_reason for row in rows), [(r.from_address, r.automatic_reason) for r in rows]
    async with session_scope() as session:
        for row in rows:  # each kept in a conversation an agent can open, unanswered
            messages = await conversation_store.messages_for(session, row.conversation_id)
            assert [(m.sender, m.delivery) for m in messages] == [("customer", "held_for_agent")]
    await asyncio.sleep(1.0)  # a few outbox passes
    assert email_hub.smtp.messages == []
    assert email_hub.rasa.received == []


async def test_automatic_replies_per_sender_are_capped(email_hub):
    for n in range(5):
        email_hub.imap.deliver(mail(subject=f"Question {n}", body=f"question {n}"))
    await eventually(lambda: len(email_hub.rasa.received) == 5, 20)
    await asyncio.sleep(1.5)
    assert len(sent_to(email_hub.smtp, "li.wei@example.com")) == 3  # BOT_EMAIL_AUTO_REPLY_CAP


async def test_the_same_message_twice_is_processed_once(email_hub):
    raw = mail(message_id="<dup@customer.example>")
    email_hub.imap.deliver(raw)
    email_hub.imap.deliver(raw)
    await eventually(lambda: sent_to(email_hub.smtp, "li.wei@example.com"), 15)
    await eventually(lambda: all("$BotProcessed" in f for _, f, _ in email_hub.imap.messages("INBOX")), 15)
    await asyncio.sleep(0.5)
    assert len(email_hub.rasa.received) == 1
    assert len(sent_to(email_hub.smtp, "li.wei@example.com")) == 1


async def test_a_crash_between_fetch_and_store_loses_nothing(email_hub, monkeypatch):
    channel = email_hub.app[EMAIL]
    original = channel.inbox.process
    calls = {"n": 0}

    async def crash_once(raw):
        calls["n"] += 1
        if calls["n"] == 1:
            raise ConnectionError("database went away mid-batch")
        return await original(raw)

    monkeypatch.setattr(channel.inbox, "process", crash_once)
    email_hub.imap.deliver(mail(message_id="<crash@customer.example>"))
    await eventually(lambda: sent_to(email_hub.smtp, "li.wei@example.com"), 20)
    assert calls["n"] >= 2  # fetched again after the failure
    assert len(email_hub.rasa.received) == 1


async def test_a_hard_bounce_marks_the_address_and_tells_an_agent(email_hub):
    email_hub.imap.deliver(mail(message_id="<b1@customer.example>"))
    (reply,) = await eventually(lambda: sent_to(email_hub.smtp, "li.wei@example.com"), 15)
    dsn = (
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.com>\r\n"
        f"To: {SUPPORT}\r\nSubject: Undelivered Mail Returned to Sender\r\nMessage-ID: <dsn1@mx.example.com>\r\n"
        "Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.com\r\n\r\n"
        "Final-Recipient: rfc822; li.wei@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n"
        "--B\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"Message-ID: {reply['Message-ID']}\r\nTo: li.wei@example.com\r\n"
        "--B--\r\n").encode()
    email_hub.imap.deliver(dsn)

    async def undeliverable():
        async with session_scope() as session:
            li = await queries.find_customer(session, "AC-100005")
            return li.email_undeliverable
    for _ in range(100):
        if await undeliverable():
            break
        await asyncio.sleep(0.1)
    assert await undeliverable()
    async with session_scope() as session:
        notes = (await session.execute(select(Note))).scalars().all()
    assert any("Email undeliverable" in n.text and "5.1.1" in n.text for n in notes)
    assert len(sent_to(email_hub.smtp, "li.wei@example.com")) == 1  # never answers a bounce


async def test_handoff_by_email_and_the_agents_reply(email_hub):
    email_hub.rasa.reply = lambda text: handoff_reply("dispute", 2)
    email_hub.imap.deliver(mail(message_id="<h1@customer.example>", body="I dispute this charge"))
    (ack,) = await eventually(lambda: sent_to(email_hub.smtp, "li.wei@example.com"), 15)
    ack_text = ack.get_body(("plain",)).get_content()
    assert "bringing in a person" in ack_text and "queue" in ack_text  # one acknowledgement with what happens next
    assert "leave this page" not in ack_text

    # More mail while people hold it: no automatic reply.
    email_hub.imap.deliver(mail(body="also, invoice INV-20015", in_reply_to=ack["Message-ID"]))
    await asyncio.sleep(1.0)
    assert len(sent_to(email_hub.smtp, "li.wei@example.com")) == 1

    agent = await email_hub.login()
    async with agent.get("/api/queue") as response:
        (item,) = (await response.json())["queue"]
    assert item["channel"] == "email"
    cid = item["conversation_id"]
    async with agent.get(f"/api/conversations/{cid}") as response:
        texts = [m["text"] for m in (await response.json())["messages"] if m["from"] == "customer"]
    assert texts == ["I dispute this charge", "also, invoice INV-20015"]
    async with agent.post(f"/api/conversations/{cid}/take") as response:
        assert response.status == 200
    await asyncio.sleep(1.0)  # five passes of the outbound queue: "Alex has joined" waits for Alex's answer
    assert len(sent_to(email_hub.smtp, "li.wei@example.com")) == 1
    async with agent.post(f"/api/conversations/{cid}/messages", json={"text": "Hi Li, I've paused that invoice."}) as response:
        assert response.status == 201
    replies = await eventually(lambda: [m for m in sent_to(email_hub.smtp, "li.wei@example.com")
                                        if "paused that invoice" in m.get_body(("plain",)).get_content()], 15)
    reply = replies[0]
    assert reply["Auto-Submitted"] is None  # a person wrote it
    assert "Alex Morgan" in reply.get_body(("plain",)).get_content()
    assert "Alex Morgan from our team has joined" in reply.get_body(("plain",)).get_content()  # one email, both
    assert reply["Subject"] == ack["Subject"]
    assert reply["In-Reply-To"] is not None
    await agent.close()


async def test_broken_mail_is_kept_without_a_crash(email_hub):
    email_hub.imap.deliver(b"this is not\r\n\r\nreally an email at all \xff\xfe")
    email_hub.imap.deliver(mail(subject="=?utf-8?q?Hi=0D=0ABcc=3A_victim=40example=2Ecom?=", body="hello"))
    await eventually(lambda: sent_to(email_hub.smtp, "li.wei@example.com"), 15)
    (reply,) = sent_to(email_hub.smtp, "li.wei@example.com")
    assert reply["Bcc"] is None and "\n" not in reply["Subject"]
    async with session_scope() as session:
        rows = (await session.execute(select(InboundEmail))).scalars().all()
        messages = (await session.execute(select(Message))).scalars().all()
    assert len(rows) == 2
    assert any("Message-ID" in (row.problems or "") or row.automatic_reason for row in rows)
    assert len([m for m in messages if m.sender == "customer"]) == 2


async def test_smtp_refusals_are_retried_and_never_dropped(email_hub):
    email_hub.smtp.refuse(451)
    email_hub.imap.deliver(mail(message_id="<r1@customer.example>"))

    async def outbound():
        async with session_scope() as session:
            return (await session.execute(select(OutboundEmail))).scalars().all()
    for _ in range(100):
        rows = await outbound()
        if rows and rows[0].last_error:
            break
        await asyncio.sleep(0.1)
    (row,) = rows
    assert row.status == "queued" and "451" in row.last_error
    email_hub.smtp.refuse(None)
    async with session_scope() as session:  # don't wait out the backoff in a test
        (await session.execute(select(OutboundEmail))).scalar_one().next_attempt_at = dt.datetime.now(dt.timezone.utc)
    email_hub.app[EMAIL].outbound.loop.wake.set()
    await eventually(lambda: sent_to(email_hub.smtp, "li.wei@example.com"), 15)
    for _ in range(100):  # the queue records "sent" just after the server has taken the message
        (row,) = await outbound()
        if row.status == "sent":
            break
        await asyncio.sleep(0.1)
    assert row.status == "sent" and len(sent_to(email_hub.smtp, "li.wei@example.com")) == 1


async def test_a_reply_to_a_payment_reminder_joins_the_invoice_conversation(email_hub):
    async with session_scope() as session:
        li = await queries.find_customer(session, "AC-100005")
        (invoice,) = [i for i in await queries.invoices_for(session, li.id) if i.amount_due > 0]
    reminder_id = f"<reminder.{invoice.number}.final@northwind.example>"
    email_hub.imap.deliver(mail(subject=f"Re: Final notice for invoice {invoice.number}", in_reply_to=reminder_id,
                                body="I paid this yesterday"))
    (reply,) = await eventually(lambda: sent_to(email_hub.smtp, "li.wei@example.com"), 15)
    assert reply["In-Reply-To"] is not None
    async with session_scope() as session:
        conversation = await conversation_store.latest_conversation(session, "email", f"dunning:{invoice.number}")
    assert conversation is not None and conversation.customer_id == li.id


async def test_a_bounced_payment_reminder_goes_to_the_agents_queue(email_hub):
    async with session_scope() as session:
        li = await queries.find_customer(session, "AC-100005")
        (invoice,) = [i for i in await queries.invoices_for(session, li.id) if i.amount_due > 0]
    dsn = (
        "From: MAILER-DAEMON@mx.example.com\r\nTo: billing@northwind.example\r\nSubject: Delivery failure\r\n"
        "Message-ID: <dsn2@mx.example.com>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\nUndeliverable.\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.com\r\n\r\n"
        "Final-Recipient: rfc822; li.wei@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "--B\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"Message-ID: <reminder.{invoice.number}.final@northwind.example>\r\nTo: li.wei@example.com\r\n"
        "--B--\r\n").encode()
    email_hub.imap.deliver(dsn)
    agent = await email_hub.login()

    async def queue():
        async with agent.get("/api/queue") as response:
            return (await response.json())["queue"]
    for _ in range(100):
        items = await queue()
        if items:
            break
        await asyncio.sleep(0.1)
    (item,) = items
    assert item["reason"] == "email_bounced" and item["customer"]["account_number"] == "AC-100005"
    async with session_scope() as session:
        assert (await queries.find_customer(session, "AC-100005")).email_undeliverable
    await agent.close()


async def _until(check, timeout: float = 10.0):
    """Awaits ``check()`` until it is truthy (the inbox works in the background)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not (result := await check()):
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.1)
    return result


async def _queue_items(email_hub):
    agent = await email_hub.login()

    async def queue():
        async with agent.get("/api/queue") as response:
            return (await response.json())["queue"]
    items = await _until(queue)
    await agent.close()
    return items


async def _li_and_open_invoice():
    async with session_scope() as session:
        # The PostgreSQL database is shared by the session's tests: start from a deliverable address.
        await session.execute(update(Customer).where(Customer.account_number == "AC-100005")
                              .values(email_undeliverable=False, reminders_opt_out=False))
    async with session_scope() as session:
        li = await queries.find_customer(session, "AC-100005")
        (invoice,) = [i for i in await queries.invoices_for(session, li.id) if i.amount_due > 0]
    return li, invoice


async def test_a_qmail_plain_text_bounce_of_a_reminder_marks_the_address(email_hub):
    li, invoice = await _li_and_open_invoice()
    bounce = (
        "Return-Path: <>\r\nFrom: MAILER-DAEMON@mx.example.com\r\nTo: billing@northwind.example\r\n"
        "Subject: failure notice\r\nMessage-ID: <qmail-1@mx.example.com>\r\n\r\n"
        "Hi. This is the qmail-send program at mx.example.com.\r\n"
        "I'm afraid I wasn't able to deliver your message to the following addresses.\r\n"
        "This is a permanent error; I've given up. Sorry it didn't work out.\r\n\r\n"
        "<li.wei@example.com>:\r\n192.0.2.153 does not like recipient.\r\n"
        "Remote host said: 550 5.1.1 <li.wei@example.com>... User Unknown\r\nGiving up on 192.0.2.153.\r\n\r\n"
        "--- Below this line is a copy of the message.\r\n\r\n"
        f"Message-ID: <reminder.{invoice.number}.firm@northwind.example>\r\nTo: li.wei@example.com\r\n"
        "From: Northwind Energy Billing <billing@northwind.example>\r\nSubject: Payment reminder\r\n\r\nDear Li\r\n")
    email_hub.imap.deliver(bounce.encode())
    (item,) = await _queue_items(email_hub)
    assert item["reason"] == "email_bounced" and item["customer"]["account_number"] == "AC-100005"
    async with session_scope() as session:
        assert (await queries.find_customer(session, "AC-100005")).email_undeliverable
    assert sent_to(email_hub.smtp, "li.wei@example.com") == []  # a bounce is never answered


async def test_a_feedback_report_stops_reminders_and_tells_an_agent(email_hub):
    li, invoice = await _li_and_open_invoice()
    report = (
        "From: Feedback Loop <fbl@mail.example.net>\r\nTo: abuse@northwind.example\r\nSubject: Abuse report\r\n"
        "Message-ID: <arf-1@mail.example.net>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=feedback-report; boundary="F"\r\n\r\n'
        "--F\r\nContent-Type: text/plain\r\n\r\nThis is an email abuse report.\r\n"
        "--F\r\nContent-Type: message/feedback-report\r\n\r\n"
        "Feedback-Type: abuse\r\nUser-Agent: ExampleFBL/1.0\r\nVersion: 1\r\nOriginal-Rcpt-To: li.wei@example.com\r\n"
        "--F\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"Message-ID: <reminder.{invoice.number}.friendly@northwind.example>\r\nTo: li.wei@example.com\r\n"
        "--F--\r\n")
    email_hub.imap.deliver(report.encode())
    (item,) = await _queue_items(email_hub)
    assert item["reason"] == "email_complaint" and item["customer"]["account_number"] == "AC-100005"
    async with session_scope() as session:
        li = await queries.find_customer(session, "AC-100005")
        assert li.reminders_opt_out and not li.email_undeliverable
        notes = (await session.execute(select(Note))).scalars().all()
    assert any("reported our email as spam" in n.text for n in notes)
    assert sent_to(email_hub.smtp, "li.wei@example.com") == []


async def test_a_polish_vacation_reply_is_kept_for_agents_and_not_answered(email_hub):
    email_hub.imap.deliver(mail(subject="=?utf-8?q?Odpowied=C5=BA_automatyczna=3A_Przypomnienie?=",
                                body="Jestem nieobecna do 10 grudnia.", message_id="<oof-pl@customer.example>"))

    async def held():
        async with session_scope() as session:
            row = await session.scalar(select(InboundEmail).where(InboundEmail.message_id == "oof-pl@customer.example"))
            return row
    row = await _until(held)
    assert row.automatic_reason.startswith("automatic subject")
    await asyncio.sleep(1.0)  # a few queue passes
    assert sent_to(email_hub.smtp, "li.wei@example.com") == []


async def test_a_sender_without_angle_brackets_is_answered(email_hub):
    raw = mail(message_id="<bb1@bug.com>").replace(b"From: Li Wei <li.wei@example.com>", b"From: Big Bug bb@bug.com")
    email_hub.imap.deliver(b"\r\n" + raw)  # and a blank line before the headers
    (reply,) = await eventually(lambda: sent_to(email_hub.smtp, "bb@bug.com"), 15)
    assert reply["In-Reply-To"] == "<bb1@bug.com>"
