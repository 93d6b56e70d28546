"""Demo history for the Reports page: four weeks of support and collections.

Conversations on both channels (most answered by the bot, some handed to people
for a reason, taken, answered and resolved or handed back, a few left waiting),
CSAT ratings, and for the generic demo customers past invoices with reminders by
stage, payments (most soon after a reminder), promises to pay kept or broken, and
card retries after soft declines. The same ``today`` always gives the same
history (seeded random). Every history invoice ends paid or written off, so the
dunning engine never acts on it; the named scenario customers are left alone.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import List, Optional, Sequence, Union
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.accounts.models import Customer, Invoice, Payment, PaymentAttempt, PromiseToPay
from bot.conversations import handoffs, returns
from bot.conversations.models import Agent, Conversation, CsatRating, Handoff, Message
from bot.demo.history_content import ANSWERS, QUESTIONS, RATING_WEIGHTS, REASON_WEIGHTS
from bot.dunning.models import Reminder

SESSION_PREFIX = "demo-history-"
INVOICE_PREFIX = "INV-H"
# Stages of a history invoice: days after its due date.
STAGES = (("upcoming", -3), ("friendly", 3), ("firm", 14), ("final", 28))


async def has_demo_history(session: AsyncSession) -> bool:
    found = await session.execute(
        select(func.count(Conversation.id)).where(Conversation.session_key.like(f"{SESSION_PREFIX}%"))
    )
    return bool(found.scalar_one())


async def clear_demo_history(session: AsyncSession) -> None:
    """Removes the history's conversations (their messages, handoffs, ratings) and invoices."""
    no_sync = {"synchronize_session": False}
    ours = select(Conversation.id).where(Conversation.session_key.like(f"{SESSION_PREFIX}%")).scalar_subquery()
    for model in (Message, Handoff, CsatRating):
        await session.execute(delete(model).where(model.conversation_id.in_(ours)).execution_options(**no_sync))
    await session.execute(
        delete(Conversation).where(Conversation.session_key.like(f"{SESSION_PREFIX}%")).execution_options(**no_sync)
    )
    invoices = select(Invoice.id).where(Invoice.number.like(f"{INVOICE_PREFIX}%")).scalar_subquery()
    for model in (Reminder, Payment, PaymentAttempt, PromiseToPay):
        await session.execute(delete(model).where(model.invoice_id.in_(invoices)).execution_options(**no_sync))
    await session.execute(delete(Invoice).where(Invoice.number.like(f"{INVOICE_PREFIX}%")).execution_options(**no_sync))
    await returns.backfill(session)  # a customer's line may have held history conversations


class _Writer:
    """Builds the rows of one history; messages are inserted in one batch at the end."""

    def __init__(
        self, session: AsyncSession, rng: random.Random, agent_ids: Sequence[int], customer_ids: Sequence[int]
    ) -> None:
        self.session, self.rng = session, rng
        self.agent_ids, self.customer_ids = list(agent_ids), list(customer_ids)
        self.messages: List[dict] = []  # conversation_id holds the Conversation until it has an id
        self.children: List[Union[Handoff, CsatRating]] = []  # handoffs and ratings, likewise
        self.recent_keys: List[tuple] = []
        self.count = 0

    def _message(self, conversation: Conversation, sender: str, text: str, at: dt.datetime, agent_id=None) -> None:
        delivery = "answered" if sender == "customer" else "sent"
        self.messages.append(
            {
                "conversation_id": conversation,
                "sender": sender,
                "text": text,
                "delivery": delivery,
                "created_at": at,
                "agent_id": agent_id,
            }
        )

    def conversation(self, start: dt.datetime, handoff_share: float) -> None:
        rng = self.rng
        if self.recent_keys and rng.random() < 0.08:  # the same customer comes back
            channel, key, customer_id = rng.choice(self.recent_keys[-60:])
        else:
            self.count += 1
            channel = "email" if rng.random() < 0.25 else "web"
            key = f"{SESSION_PREFIX}{self.count:05d}"
            customer_id = rng.choice(self.customer_ids) if self.customer_ids and rng.random() < 0.4 else None
            self.recent_keys.append((channel, key, customer_id))
        step = (
            dt.timedelta(minutes=rng.uniform(2, 30)) if channel == "email" else dt.timedelta(seconds=rng.uniform(8, 50))
        )
        conversation = Conversation(
            public_id=f"{key}-{start:%Y%m%d%H%M%S}",
            channel=channel,
            session_key=key,
            customer_id=customer_id,
            status="bot",
            queue_notice_sent=False,
            outage_notice_sent=False,
            rasa_needs_resume=False,
            created_at=start,
            updated_at=start,
        )
        self.session.add(conversation)
        at = start
        for _ in range(rng.randint(1, 4)):
            self._message(conversation, "customer", rng.choice(QUESTIONS), at)
            at += dt.timedelta(seconds=rng.uniform(1, 3))
            self._message(conversation, "bot", rng.choice(ANSWERS), at)
            at += step
        if rng.random() < handoff_share:
            at = self._handoff(conversation, at, channel)
        conversation.updated_at = at

    def _handoff(self, conversation: Conversation, at: dt.datetime, channel: str) -> dt.datetime:
        rng = self.rng
        reasons, weights = zip(*REASON_WEIGHTS, strict=True)
        reason = rng.choices(reasons, weights)[0]
        handoff = Handoff(conversation_id=conversation, reason=reason, priority=2, summary="{}", requested_at=at)
        self.children.append(handoff)
        self._message(conversation, "system", "A person will be with you shortly.", at)
        conversation.status = "pending"
        slow = 6 if channel == "email" else 1
        if rng.random() < 0.12:  # nobody took it in time: handed back after a long wait
            handoff.ended_at = at + dt.timedelta(seconds=rng.uniform(900, 3600) * slow)
            handoff.outcome = "handed_back"
            conversation.status = "bot"
            return handoff.ended_at
        agent_id = rng.choice(self.agent_ids) if self.agent_ids else None
        handoff.taken_at = at + dt.timedelta(seconds=min(rng.expovariate(1 / 150) * slow, 5400))
        handoff.taken_by = agent_id
        reply = handoff.taken_at + dt.timedelta(seconds=rng.uniform(15, 90))
        self._message(conversation, "agent", "Hi, I'm here to help.", reply, agent_id)
        end = reply + dt.timedelta(seconds=rng.uniform(180, 1500) * slow)
        handoff.ended_at = end
        if rng.random() < 0.2:
            handoff.outcome, conversation.status = "handed_back", "bot"
            conversation.assigned_agent_id = None
            return end
        handoff.outcome, conversation.status = "resolved", "resolved"
        conversation.resolved_at = conversation.csat_requested_at = end
        conversation.assigned_agent_id = agent_id
        if rng.random() < 0.55:
            rating = rng.choices((1, 2, 3, 4, 5), RATING_WEIGHTS)[0]
            self.children.append(
                CsatRating(
                    conversation_id=conversation,
                    rating=rating,
                    created_at=end + dt.timedelta(seconds=rng.uniform(10, 120)),
                )
            )
        return end

    async def flush(self) -> None:
        """Writes what was built: conversations first (for their ids), then what points at them."""
        await self.session.flush()
        for child in self.children:
            child.conversation_id = child.conversation_id.id
        self.session.add_all(self.children)
        for message in self.messages:
            message["conversation_id"] = message["conversation_id"].id
        if self.messages:
            await self.session.execute(insert(Message), self.messages)
        await self.session.flush()
        self.messages, self.children = [], []


def _local(day: dt.date, hour: float, tz: ZoneInfo) -> dt.datetime:
    return (dt.datetime.combine(day, dt.time(0), tzinfo=tz) + dt.timedelta(hours=hour)).astimezone(dt.timezone.utc)


async def _invoice_history(
    session: AsyncSession, rng: random.Random, customer_id: int, number: int, today: dt.date, tz: ZoneInfo
) -> None:
    """One past invoice: its reminders up to payment, maybe a promise, maybe card retries."""
    due = today - dt.timedelta(days=rng.randint(4, 36))
    amount = Decimal(rng.randrange(4000, 42000)) / 100
    invoice = Invoice(
        number=f"{INVOICE_PREFIX}{number:05d}",
        customer_id=customer_id,
        description="Demo history",
        amount=amount,
        currency="USD",
        issued_on=due - dt.timedelta(days=30),
        due_on=due,
        status="written_off",
        late_fee=Decimal("0.00"),
    )
    session.add(invoice)
    await session.flush()
    # When (if ever) it gets paid: mostly a few days after some reminder.
    paid_day: Optional[dt.date] = None
    if rng.random() < 0.7:
        paid_day = due + dt.timedelta(days=rng.choice((-1, 1, 4, 5, 6, 16, 17, 20, 30)))
        paid_day = min(paid_day, today - dt.timedelta(days=1))
    for stage, offset in STAGES:
        day = due + dt.timedelta(days=offset)
        if day >= today or (paid_day is not None and day > paid_day):
            break
        session.add(
            Reminder(
                invoice_id=invoice.id,
                stage=stage,
                channel="email",
                sent_at=_local(day, 10, tz),
                message_id=f"<history-{invoice.number}-{stage}@northwind.example>",
            )
        )
    if rng.random() < 0.3 and due + dt.timedelta(days=4) < today:
        promised = due + dt.timedelta(days=rng.randint(7, 12))
        kept = paid_day is not None and paid_day <= promised
        status = "kept" if kept else ("broken" if promised < today else "active")
        session.add(
            PromiseToPay(
                customer_id=customer_id,
                invoice_id=invoice.id,
                kind="promise",
                amount=amount,
                currency="USD",
                promised_date=promised,
                status=status,
                channel="chat",
                created_at=_local(due + dt.timedelta(days=4), 11, tz),
            )
        )
    method = "card"
    if rng.random() < 0.3 and due < today:
        session.add(
            PaymentAttempt(
                invoice_id=invoice.id,
                attempted_at=_local(due, 6, tz),
                amount=amount,
                outcome="declined",
                decline_code="insufficient_funds",
                decline_type="soft",
            )
        )
        retry = due + dt.timedelta(days=3)
        if retry < today:
            succeeded = rng.random() < 0.6
            session.add(
                PaymentAttempt(
                    invoice_id=invoice.id,
                    attempted_at=_local(retry, 6, tz),
                    amount=amount,
                    outcome="succeeded" if succeeded else "declined",
                    decline_code=None if succeeded else "insufficient_funds",
                    decline_type=None if succeeded else "soft",
                )
            )
            if succeeded:
                paid_day = retry
    elif rng.random() < 0.4:
        method = "bank"
    if paid_day is not None:
        invoice.status, invoice.paid_on = "paid", paid_day
        session.add(
            Payment(
                invoice_id=invoice.id,
                amount=amount,
                currency="USD",
                method=method,
                paid_at=_local(paid_day, 6 if method == "card" else rng.uniform(8, 20), tz),
            )
        )


async def add_demo_history(
    session: AsyncSession, today: dt.date, tz: ZoneInfo, *, days: int = 28, scenario_customers: int = 0, seed: int = 16
) -> int:
    """Adds ``days`` days of history before ``today``; returns the conversations created.
    The first ``scenario_customers`` customers (the named demo scenarios) get no history invoices."""
    rng = random.Random(f"{seed}-{today.isoformat()}")
    agent_ids = (await session.execute(select(Agent.id).order_by(Agent.id))).scalars().all()
    customer_ids = (await session.execute(select(Customer.id).order_by(Customer.id))).scalars().all()
    writer = _Writer(session, rng, agent_ids, customer_ids)
    conversations = 0
    for back in range(days, 0, -1):
        day = today - dt.timedelta(days=back)
        weekend = day.isoweekday() >= 6
        # The bot gets better over the weeks: fewer handoffs towards today.
        handoff_share = 0.30 - 0.12 * (days - back) / max(days - 1, 1)
        for _ in range(rng.randint(8, 14) if weekend else rng.randint(18, 30)):
            writer.conversation(_local(day, rng.uniform(7.5, 21), tz), handoff_share)
            conversations += 1
        await writer.flush()
    # Written in bulk, not through bot.conversations.store: set the columns its writers keep.
    await returns.backfill(session)
    await handoffs.backfill_first_replies(session)
    for number, customer_id in enumerate(customer_ids[scenario_customers:], start=1):
        await _invoice_history(session, rng, customer_id, number, today, tz)
    await session.flush()
    return conversations
