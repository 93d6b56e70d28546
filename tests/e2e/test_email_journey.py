"""A whole conversation by email with the real Rasa server and action server: the
customer writes to the support mailbox (real Dovecot), verifies in the thread,
gets their balance by email (real SMTP server), then asks for a person and gets
the agent's answer in the same thread."""

from __future__ import annotations

import asyncio
import email.utils
import uuid

import aiohttp
import pytest

from tests.hub_clients import eventually
from tests.servers import AGENT_PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.model]

LI = "li.wei@example.com"


def write(servers, body, subject="My account", in_reply_to=None, references=""):
    message_id = f"<{uuid.uuid4().hex}@customer.example>"
    headers = [f"From: Li Wei <{LI}>", "To: support@northwind.example", f"Subject: {subject}",
               f"Message-ID: {message_id}", f"Date: {email.utils.formatdate()}",
               "Content-Type: text/plain; charset=utf-8"]
    if in_reply_to:
        headers += [f"In-Reply-To: {in_reply_to}", f"References: {references} {in_reply_to}".strip()]
    servers.imap.deliver(("\r\n".join(headers) + "\r\n\r\n" + body + "\r\n").encode())
    return message_id


async def next_reply(servers, count_before, timeout=60):
    def replies():
        mine = [m for m in servers.smtp.messages if LI in m["To"]]
        return mine[count_before:] if len(mine) > count_before else None
    (reply, *_) = await eventually(replies, timeout)
    return reply, reply.get_body(("plain",)).get_content()


def sent_count(servers):
    return len([m for m in servers.smtp.messages if LI in m["To"]])


async def test_a_whole_conversation_by_email_with_a_handoff(servers):
    start = sent_count(servers)
    first = write(servers, "Hello, how much do I owe you?")
    reply, text = await next_reply(servers, start)
    assert "account number" in text and "$" not in text  # verify first, nothing before
    assert reply["In-Reply-To"] == first and reply["Auto-Submitted"] == "auto-replied"

    mine = write(servers, "It's AC-100005\n\nOn Fri, Nov 27, 2026 Northwind wrote:\n> What's your account number?",
                 subject=reply["Subject"], in_reply_to=reply["Message-ID"], references=first)
    reply, text = await next_reply(servers, start + 1)
    assert "ZIP code" in text
    write(servers, "98101", subject=reply["Subject"], in_reply_to=reply["Message-ID"], references=f"{first} {mine}")
    reply, text = await next_reply(servers, start + 2)
    assert "you're verified" in text and "$439.15" in text  # the question asked first, answered

    # A person, please: one acknowledgement, then the agent's answer in the same thread.
    write(servers, "I want to talk to a real person", subject=reply["Subject"], in_reply_to=reply["Message-ID"])
    ack, text = await next_reply(servers, start + 3)
    assert "queue" in text
    async with aiohttp.ClientSession(base_url=servers.hub_url, cookie_jar=aiohttp.CookieJar(unsafe=True)) as agent:
        async with agent.post("/api/auth/login", json={"email": "sam@northwind.example",
                                                       "password": AGENT_PASSWORD}) as response:
            assert response.status == 200
        async with agent.get("/api/queue") as response:
            items = [i for i in (await response.json())["queue"] if i["channel"] == "email"
                     and (i["customer"] or {}).get("account_number") == "AC-100005"]
        cid = items[-1]["conversation_id"]
        async with agent.post(f"/api/conversations/{cid}/take") as response:
            assert response.status == 200
        async with agent.post(f"/api/conversations/{cid}/messages",
                              json={"text": "Hi Li, Sam here. I can set up a payment plan for you."}) as response:
            assert response.status == 201
        answer, text = await next_reply(servers, start + 4)
        assert "Sam here" in text and "Sam Rivera" in text
        assert answer["Subject"] == ack["Subject"] and answer["Auto-Submitted"] is None
        async with agent.post(f"/api/conversations/{cid}/resolve") as response:
            assert response.status == 200
    await asyncio.sleep(0)  # nothing else to wait for: the rating question goes out by email too
