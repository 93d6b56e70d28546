"""The outbound queue: what the bot, agents and the hub say in an email conversation
goes to the customer as one email per turn, in the same thread.

Collecting: messages not yet emailed become one queued email (pointer and email
are written in one transaction, with a Message-ID derived from the last message,
so a crash can neither lose nor duplicate it). Sending: queued emails are
claimed, sent, and retried with backoff on temporary failures; a permanent
failure or too many attempts marks them failed, never silently dropped.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import html
import logging
from typing import Any, Callable, Dict, List, Optional

from bot.accounts import queries
from bot.config import Settings
from bot.conversations.message_views import message_views
from bot.conversations.models import Conversation, Message
from bot.db import session_scope
from bot.email import compose, store, threads, transport
from bot.email.errors import HeaderInjection, PermanentFailure, SendError
from bot.email.models import EmailThread, OutboundEmail
from bot.loops import Loop

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8


def backoff(attempts: int) -> dt.timedelta:
    """1, 2, 4 ... minutes between tries, at most an hour."""
    return dt.timedelta(minutes=min(60, 2 ** max(0, attempts - 1)))


def body_text(messages: List[Dict[str, Any]], settings: Settings) -> str:
    """One email from a turn's messages (as :func:`bot.conversations.message_views.message_view` shows them)."""
    parts = []
    for message in messages:
        text = message["text"]
        options = [q.get("title", "") for q in message.get("quick_replies", [])]
        if any(options):
            text += "\n(You can reply with: " + ", ".join(o for o in options if o) + ")"
        parts.append(text)
    people = [m["agent_name"] for m in messages if m["from"] == "agent" and m.get("agent_name")]
    if people:
        signature = f"{people[-1]}\n{settings.company_name} customer support"
    else:
        signature = (
            f"The {settings.company_name} virtual assistant\n"
            'Reply to this email to continue. Write "talk to a person" to reach our team, '
            f"or call {settings.support_phone}."
        )
    return "\n\n".join(parts) + "\n\n-- \n" + signature


def body_html(text: str) -> str:
    paragraphs = "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in text.split("\n\n"))
    return f"<!doctype html><html><body>{paragraphs}</body></html>"


class OutboundQueue:
    def __init__(
        self, settings: Settings, db_url: str, busy: Callable[[Conversation], bool], clock: Callable[[], dt.datetime]
    ) -> None:
        self.settings = settings
        self.db_url = db_url
        self.busy = busy  # True while the router is still working on the conversation's turn
        self.clock = clock
        # Runs every few seconds for retries, and at once when woken by a new message.
        self.loop = Loop("email outbound queue", self.one_pass, settings.email.poll_seconds)

    # -- collecting -----------------------------------------------------------

    async def collect(self) -> int:
        """Turns every finished turn into one queued email; returns how many were queued."""
        queued = 0
        async with session_scope(self.db_url) as session:
            pending = await store.threads_with_unsent(session)
        for listed in pending:
            async with session_scope(self.db_url) as session:
                thread = await store.thread_for(session, listed.conversation_id)  # afresh, in this transaction
                if thread is None:  # its conversation was deleted since the list was read
                    continue
                conversation = await session.get(Conversation, thread.conversation_id)
                if self.busy(conversation):
                    continue
                messages = await store.unsent_messages(session, thread)
                outgoing = [m for m in messages if m.sender in ("bot", "agent", "system")]
                if not messages or _only_notices_while_assigned(conversation, outgoing):
                    continue
                thread.last_emailed_message_id = messages[-1].id
                if outgoing:
                    queued += await self._queue(session, thread, conversation, outgoing)
        if queued:
            self.loop.wake.set()
        return queued

    async def _queue(self, session, thread: EmailThread, conversation: Conversation, messages: List[Message]) -> int:
        now = self.clock()
        automatic = not any(m.sender == "agent" for m in messages)
        recipient = thread.customer_address
        notice_to_sender = False
        if conversation.customer_id is not None:
            customer = await queries.get_customer(session, conversation.customer_id)
            if customer is not None and customer.email.lower() != recipient.lower():
                # Account data only ever goes to the address on file.
                recipient, notice_to_sender = customer.email, True
        if automatic:
            since = now - dt.timedelta(hours=24)
            if await store.automatic_replies_since(session, recipient, since) >= self.settings.email.auto_reply_cap:
                logger.warning(
                    "automatic reply to %s not sent: %d in 24 hours already",
                    recipient,
                    self.settings.email.auto_reply_cap,
                )
                return 0
        text = body_text(await message_views(session, messages), self.settings)
        domain = compose.domain_of(self.settings.sender_address)
        key = f"reply.{conversation.public_id}.{messages[-1].id}"
        queued = [
            self._outbound(conversation, thread, recipient, text, compose.message_id(key, domain), automatic, now)
        ]
        if notice_to_sender:
            notice = (
                f"Thank you for your email. For your security, we only send account details to the email "
                f"address on the account, so we've sent our answer there.\n\n-- \n{self.settings.company_name}"
            )
            queued.append(
                self._outbound(
                    conversation,
                    thread,
                    thread.customer_address,
                    notice,
                    compose.message_id(key + ".notice", domain),
                    True,
                    now,
                )
            )
        rows = [row for row in queued if row is not None]
        session.add_all(rows)
        return len(rows)

    def _outbound(
        self,
        conversation: Conversation,
        thread: EmailThread,
        to: str,
        text: str,
        message_id: str,
        automatic: bool,
        now: dt.datetime,
    ) -> Optional[OutboundEmail]:
        subject = threads.subject_with_token(thread.subject, conversation.public_id)
        try:
            message = compose.message(
                sender=self.settings.sender_address,
                to=to,
                subject=subject,
                text=text,
                html=body_html(text),
                message_id=message_id,
                in_reply_to=thread.last_inbound_message_id,
                references=(thread.references or "").split(),
                reply_to=self.settings.sender_address,
                auto_submitted="auto-replied" if automatic else None,
            )
        except HeaderInjection as exc:
            # Never send to an address or subject that would inject headers; an agent sees the conversation.
            logger.error("email for conversation %s not queued: %s", conversation.public_id, exc)
            return None
        return OutboundEmail(
            message_id=message_id,
            conversation_id=conversation.id,
            to_address=to,
            subject=subject,
            mime=message.as_string(),
            automatic=automatic,
            status="queued",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )

    # -- sending --------------------------------------------------------------

    async def send_due(self) -> int:
        """Sends every queued email that is due; returns how many were sent."""
        now = self.clock()
        async with session_scope(self.db_url) as session:
            due = [(row.id, row.attempts) for row in await store.due_outbound(session, now)]
        sent = 0
        for outbound_id, attempts in due:
            async with session_scope(self.db_url) as session:
                # Held for a while, so a second sender (or a crash mid-send) doesn't double-send at once.
                if not await store.claim_outbound(session, outbound_id, attempts, now, backoff(attempts + 1)):
                    continue
            sent += await self._send_one(outbound_id)
        return sent

    async def _send_one(self, outbound_id: int) -> int:
        async with session_scope(self.db_url) as session:
            row = await session.get(OutboundEmail, outbound_id)
            message = email.message_from_string(row.mime, policy=email.policy.default)
        try:
            await transport.deliver(message, self.settings)
        except SendError as exc:
            async with session_scope(self.db_url) as session:
                row = await session.get(OutboundEmail, outbound_id)
                row.last_error = str(exc)[:2000]
                if isinstance(exc, PermanentFailure) or row.attempts >= MAX_ATTEMPTS:
                    row.status = "failed"
                    logger.error("email %s to %s failed for good: %s", row.message_id, row.to_address, exc)
                else:
                    row.next_attempt_at = self.clock() + backoff(row.attempts)
                    logger.warning("email %s to %s will be retried: %s", row.message_id, row.to_address, exc)
            return 0
        async with session_scope(self.db_url) as session:
            row = await session.get(OutboundEmail, outbound_id)
            row.status, row.sent_at, row.last_error = "sent", self.clock(), None
        return 1

    async def one_pass(self) -> None:
        await self.collect()
        await self.send_due()


def _only_notices_while_assigned(conversation: Conversation, outgoing: List[Message]) -> bool:
    """An agent who took an email conversation is about to write: "Sam has joined" goes out
    with their answer, not as an email of its own."""
    return conversation.status == "assigned" and bool(outgoing) and all(m.sender == "system" for m in outgoing)
