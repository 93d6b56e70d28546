"""Email in: each received message is stored once, threaded to its conversation,
and routed like a chat message, unless it is automatic mail or a bounce.

- Stored once: keyed by Message-ID (a digest of the bytes when it has none), so a
  restart or a crash mid-batch never processes a message twice; the caller marks
  it processed on the IMAP server only after this returns.
- Threading: In-Reply-To / References against what we received and sent, then the
  ``[ref:...]`` token in the subject; otherwise a new conversation.
- Automatic mail (RFC 3834) is kept for agents and never answered.
- Bounces mark the address undeliverable (which pauses dunning) and leave a
  note for an agent on the conversation of the message that bounced.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from dataclasses import dataclass
from typing import Callable, Optional

from sqlalchemy import update

from bot.config import Settings
from bot.db import conversations as conversation_store
from bot.db import session_scope
from bot.db.email_models import EmailThread, InboundEmail
from bot.db.hub_models import Conversation
from bot.db.models import Customer
from bot.db import queries
from bot.dunning import alerts, render
from bot.email import bounces, loop_safety, parse, quotes, store, threads
from bot.hub.routing import MessageRejected, Router

logger = logging.getLogger(__name__)


@dataclass
class Outcome:
    """What happened to one inbound email (for logs and tests)."""

    message_id: str
    action: str  # routed | duplicate | automatic | bounce | held
    conversation_id: Optional[str] = None
    detail: str = ""


def stable_message_id(mail: parse.InboundEmail, raw: bytes) -> str:
    if mail.message_id:
        return mail.message_id[:255]
    # No Message-ID: the same bytes always get the same key, so they still dedupe.
    return f"missing.{hashlib.sha256(raw).hexdigest()[:40]}@inbound.invalid"


class Inbox:
    def __init__(self, settings: Settings, router: Router, clock: Callable[[], dt.datetime]) -> None:
        self.settings = settings
        self.router = router
        self.db_url = router.db_url
        self.clock = clock

    async def process(self, raw: bytes) -> Outcome:
        mail = parse.parse(raw)
        message_id = stable_message_id(mail, raw)
        for problem in mail.problems:
            logger.warning("inbound email %s: %s", message_id, problem)
        bounce = bounces.parse_bounce(raw)
        if bounce is not None:
            return await self._bounce(mail, message_id, bounce)
        reason = loop_safety.automatic_reason(mail, self.settings.own_addresses)
        now = self.clock()
        async with session_scope(self.db_url) as session:
            existing = await store.inbound_by_message_id(session, message_id)
            if existing is not None:
                if reason or existing.automatic_reason or existing.conversation_id is None:
                    return Outcome(message_id, "duplicate")
                # Stored before (a crash before it was marked processed, or the same mail twice):
                # route it again into the same conversation, where its Message-ID dedupes it.
                conversation = await session.get(Conversation, existing.conversation_id)
            else:
                conversation = await self._conversation_for(session, mail, now)
                session.add(InboundEmail(
                    message_id=message_id, conversation_id=conversation.id, from_address=mail.from_address or "",
                    subject=(mail.subject or "")[:255], automatic_reason=reason,
                    problems="\n".join(mail.problems) or None,
                    attachments=json.dumps([vars(a) for a in mail.attachments]) if mail.attachments else None,
                    received_at=now))
            await self._update_thread(session, conversation, mail, message_id)
            if reason is not None:
                # Kept for agents, never answered automatically.
                await conversation_store.add_message(session, conversation, "customer", self._text(mail) or "(empty)",
                                                     "held_for_agent", now, client_message_id=message_id[:64])
                logger.info("no automatic reply to %s from %s: %s", message_id, mail.from_address, reason)
                return Outcome(message_id, "automatic", conversation.public_id, reason)
            session_key = conversation.session_key
        text = self._text(mail) or mail.subject or "(empty message)"
        try:
            accepted = await self.router.customer_message("email", session_key, text[: self.settings.max_message_chars],
                                                          client_message_id=message_id[:64])
        except MessageRejected as exc:
            return Outcome(message_id, "held", conversation.public_id, str(exc))
        await self._thread_for_new_conversation(accepted.conversation_id, conversation.id)
        action = "duplicate" if accepted.duplicate else "routed"
        return Outcome(message_id, action, accepted.conversation_id)

    def _text(self, mail: parse.InboundEmail) -> str:
        return quotes.strip_quoted(mail.text or "").strip()

    async def _conversation_for(self, session, mail: parse.InboundEmail, now: dt.datetime) -> Conversation:
        candidates = threads.candidate_ids(mail.in_reply_to, mail.references)
        conversation = await store.conversation_for_message_ids(session, candidates)
        if conversation is None:
            conversation = await self._reminder_conversation(session, mail, candidates, now)
        if conversation is None and threads.token_in(mail.subject or ""):
            conversation = await store.conversation_for_token(session, threads.token_in(mail.subject))
            if conversation is not None and conversation.channel == "email":
                thread = await store.thread_for(session, conversation.id)
                # A token only joins the thread of the same sender: tokens are visible in subjects.
                if thread is None or thread.customer_address.lower() != (mail.from_address or "").lower():
                    conversation = None
        if conversation is not None and conversation.channel == "email":
            latest = await conversation_store.latest_conversation(session, "email", conversation.session_key)
            return latest or conversation
        root = (mail.message_id or f"thread.{now.timestamp()}")[:128]
        conversation = await conversation_store.create_conversation(session, "email", root, now)
        session.add(EmailThread(conversation_id=conversation.id, customer_address=(mail.from_address or "")[:254],
                                subject=(mail.subject or "")[:255], references="", last_emailed_message_id=0))
        await session.flush()
        return conversation

    async def _reminder_conversation(self, session, mail: parse.InboundEmail, candidates, now: dt.datetime
                                     ) -> Optional[Conversation]:
        """A reply to a payment reminder joins its invoice's conversation (the one dunning alerts use)."""
        number = next((n for n in (render.invoice_number_in(f"<{mid}>") for mid in candidates) if n), None)
        if number is None:
            return None
        key = alerts.session_key(number)
        conversation = await conversation_store.latest_conversation(session, "email", key)
        if conversation is None:
            conversation = await conversation_store.create_conversation(session, "email", key, now)
            customer = await queries.find_customer(session, mail.from_address) if mail.from_address else None
            if customer is not None and await queries.invoice_by_number(session, customer.id, number) is not None:
                # The address on file wrote about its own invoice: agents see whose it is (not proof for the bot).
                conversation.customer_id = customer.id
        if await store.thread_for(session, conversation.id) is None:
            session.add(EmailThread(conversation_id=conversation.id, customer_address=(mail.from_address or "")[:254],
                                    subject=(mail.subject or "")[:255], references="", last_emailed_message_id=0))
            await session.flush()
        return conversation

    async def _alert_for_reminder(self, session, bounce, addresses, note: str, now: dt.datetime) -> None:
        """A bounced payment reminder: the invoice goes to the agents' queue, like other dunning alerts."""
        number = render.invoice_number_in(f"<{(bounce.original_message_id or '').strip('<>')}>")
        customer = await queries.find_customer(session, addresses[0]) if number and addresses else None
        if customer is not None and await queries.invoice_by_number(session, customer.id, number) is not None:
            await alerts.alert_agents(session, customer_id=customer.id, invoice_number=number, reason="email_bounced",
                                      note=note, summary={"invoice": number}, now=now)

    async def _update_thread(self, session, conversation: Conversation, mail: parse.InboundEmail, message_id: str) -> None:
        thread = await store.thread_for(session, conversation.id)
        if thread is None:
            return
        thread.last_inbound_message_id = f"<{message_id.strip('<>')}>"
        thread.references = threads.extend_references(thread.references, *mail.references, mail.in_reply_to, message_id)

    async def _thread_for_new_conversation(self, public_id: str, previous_id: int) -> None:
        """A reply to a resolved conversation opens a new one in the same email thread."""
        async with session_scope(self.db_url) as session:
            conversation = await conversation_store.get_conversation(session, public_id)
            if conversation is None or conversation.id == previous_id or await store.thread_for(session, conversation.id):
                return
            old = await store.thread_for(session, previous_id)
            if old is not None:
                session.add(EmailThread(conversation_id=conversation.id, customer_address=old.customer_address,
                                        subject=old.subject, references=old.references,
                                        last_inbound_message_id=old.last_inbound_message_id,
                                        last_emailed_message_id=old.last_emailed_message_id))

    async def _bounce(self, mail: parse.InboundEmail, message_id: str, bounce) -> Outcome:
        now = self.clock()
        async with session_scope(self.db_url) as session:
            if await store.inbound_by_message_id(session, message_id) is not None:
                return Outcome(message_id, "duplicate")
            original = await store.outbound_by_message_id(session, bounce.original_message_id) \
                if bounce.original_message_id else None
            session.add(InboundEmail(message_id=message_id, conversation_id=original.conversation_id if original else None,
                                     from_address=mail.from_address or "", subject=(mail.subject or "")[:255],
                                     automatic_reason="bounce", received_at=now))
            addresses = [a.lower() for a in bounce.addresses] or ([original.to_address.lower()] if original else [])
            first = bounce.recipients[0] if bounce.recipients else None
            why = (first.diagnostic or first.status) if first else "no details"
            detail = f"{'hard' if bounce.hard else 'soft'} bounce for {', '.join(addresses) or 'an unknown address'}: {why}"
            if bounce.hard and bounce.certain and addresses:
                # A standard delivery report: the address is undeliverable, which pauses dunning for it.
                await session.execute(update(Customer).where(Customer.email.in_(addresses))
                                      .values(email_undeliverable=True).execution_options(synchronize_session=False))
                note = f"Email undeliverable ({detail}). Reminders to this address are paused; please find another way to reach the customer."
            elif bounce.hard:
                note = f"Possible bounce, not a standard delivery report ({detail}). Nothing was changed; please check."
            else:
                return Outcome(message_id, "bounce", detail=detail)
            if original is not None and original.conversation_id is not None:
                await conversation_store.add_note(session, original.conversation_id, None, note, now)
            else:
                await self._alert_for_reminder(session, bounce, addresses, note, now)
            logger.warning("bounce %s: %s", message_id, detail)
        return Outcome(message_id, "bounce", detail=detail)
