"""A small, fixed history in the week of Mon 5 - Sun 11 February 2024 (America/New_York,
UTC-5), with every report figure worked out by hand below (EXPECTED). Used by the
facts/report tests, the report API tests and the browser test of the Reports page.

Conversations (all start at 15:00 UTC = 10:00 local):
  A web   Feb 5  bot only, nobody came back                          -> contained
  B web   Feb 5  bot only, same widget session back on Feb 7 (C)     -> reopened
  C web   Feb 7  anger: taken after 120 s, agent wrote after 180 s, resolved after 1200 s, rated 5
  D email Feb 6  dispute: taken after 600 s, agent wrote after 720 s, resolved after 3600 s, rated 2
  E web   Feb 8  asked_for_person: nobody took it, handed back after 1200 s -> abandoned (> 600 s)
  F web   Feb 9  customer 1, resolved after 1800 s, rated 4; customer 1 back by email Feb 12 (G) -> reopened
  G email Feb 12 after the period (only reopens F); H web Feb 4: before the period.
Dunning (invoices of customer 1): reminders I1 friendly Feb 1 (before), I1 firm Feb 6, I2 friendly
Feb 5, I3 final Feb 7; payments I1 100.00 Feb 8 (firm, 2 days after), I2 40.00 Feb 10 (friendly,
5 days after), I3 75.00 Feb 7 14:00 (before its reminder: no stage); promises due Feb 6 kept, Feb 9
broken, Feb 20 kept (after); card attempts I2 soft decline Feb 3, success Feb 6 (a recovered retry),
I1 hard decline Feb 6.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from bot.accounts.models import Invoice, Payment, PaymentAttempt, PromiseToPay
from bot.conversations import handoffs, returns
from bot.conversations.models import Conversation, CsatRating, Handoff, Message
from bot.dunning.models import Reminder

FIRST_DAY, LAST_DAY = dt.date(2024, 2, 5), dt.date(2024, 2, 11)
CUSTOMER_ID = 1


def at(day: int, hour: int = 15, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime(2024, 2, day, hour, minute, second, tzinfo=dt.timezone.utc)


EXPECTED = {
    "conversations": 6,
    "containment_rate": 0.1667,
    "containment": {"conversations": 6, "contained": 1, "rate": 0.1667},
    "first_contact_resolution": {"conversations": 6, "resolved_first_time": 4, "rate": 0.6667},
    "handoffs": 3,
    "handoffs_by_reason": {"anger": 1, "asked_for_person": 1, "dispute": 1},
    "handoffs_by_channel": {"web": 2, "email": 1},
    "queue_wait_seconds": {"count": 2, "p50": 120.0, "p90": 600.0, "mean": 360.0},
    "first_response_seconds": {"count": 2, "p50": 180.0, "p90": 720.0, "mean": 450.0},
    "resolution_seconds": {"count": 3, "p50": 1800.0, "p90": 3600.0, "mean": 2200.0},
    "abandoned": {"handoffs": 3, "count": 1, "rate": 0.3333, "timeout_seconds": 600.0},
    "csat": {"ratings": 3, "satisfied": 2, "score": 0.6667, "distribution": {"1": 0, "2": 1, "3": 0, "4": 1, "5": 1}},
    "reminders_by_stage": {"friendly": 1, "firm": 1, "final": 1},
    "recovered_by_stage": {"friendly": {"payments": 1, "amount": "40.00"}, "firm": {"payments": 1, "amount": "100.00"}},
    "recovered_total": "140.00",
    "promises": {"kept": 1, "broken": 1, "active": 0, "cancelled": 0, "kept_share": 0.5},
    "card_retries": {"retries": 1, "recovered": 1, "amount": "40.00", "rate": 1.0},
}
# The web channel alone: A B C E F; contained A; handoffs C (anger) and E; ratings 5 and 4.
EXPECTED_WEB = {"conversations": 5, "containment_rate": 0.2, "handoffs_by_reason": {"anger": 1, "asked_for_person": 1},
                "csat_score": 1.0}


def _conversation(session, key, channel, day, minutes_open, customer_id=None, resolved=False):
    start = at(day)
    end = start + dt.timedelta(minutes=minutes_open)
    conversation = Conversation(
        public_id=f"fixture-{key}", channel=channel, session_key=f"fixture-{key.rstrip('0123456789')}",
        customer_id=customer_id, status="resolved" if resolved else "bot", queue_notice_sent=False,
        outage_notice_sent=False, rasa_needs_resume=False, created_at=start, updated_at=end,
        resolved_at=end if resolved else None)
    session.add(conversation)
    return conversation


async def add_history(session) -> None:
    """Inserts the fixture's rows (the caller commits)."""
    a = _conversation(session, "a", "web", 5, 10)
    b = _conversation(session, "b", "web", 5, 10)
    c = _conversation(session, "b2", "web", 7, 20, resolved=True)  # same widget session as B
    d = _conversation(session, "d", "email", 6, 60, resolved=True)
    e = _conversation(session, "e", "web", 8, 20)
    f = _conversation(session, "f", "web", 9, 30, customer_id=CUSTOMER_ID, resolved=True)
    _conversation(session, "g", "email", 12, 5, customer_id=CUSTOMER_ID)
    _conversation(session, "h", "web", 4, 5)
    await session.flush()
    assert a.id and b.id
    session.add_all([
        Handoff(conversation_id=c.id, reason="anger", priority=1, summary="{}", requested_at=at(7, 15, 5),
                taken_at=at(7, 15, 7), ended_at=at(7, 15, 20), outcome="resolved"),
        Handoff(conversation_id=d.id, reason="dispute", priority=2, summary="{}", requested_at=at(6),
                taken_at=at(6, 15, 10), ended_at=at(6, 16), outcome="resolved"),
        Handoff(conversation_id=e.id, reason="asked_for_person", priority=2, summary="{}", requested_at=at(8),
                ended_at=at(8, 15, 20), outcome="handed_back"),
        Message(conversation_id=c.id, sender="agent", text="Hello", delivery="sent", created_at=at(7, 15, 8)),
        Message(conversation_id=c.id, sender="agent", text="Done", delivery="sent", created_at=at(7, 15, 15)),
        Message(conversation_id=d.id, sender="agent", text="Hello", delivery="sent", created_at=at(6, 15, 12)),
        Message(conversation_id=d.id, sender="customer", text="Hi", delivery="answered", created_at=at(6, 15, 1)),
        CsatRating(conversation_id=c.id, rating=5, created_at=at(7, 15, 21)),
        CsatRating(conversation_id=d.id, rating=2, created_at=at(6, 16, 1)),
        CsatRating(conversation_id=f.id, rating=4, created_at=at(9, 15, 31)),
    ])
    invoices = [Invoice(number=f"INV-FX{n}", customer_id=CUSTOMER_ID, description="fixture", amount=amount,
                        currency="USD", issued_on=dt.date(2024, 1, 1), due_on=dt.date(2024, 1, 31), status="paid",
                        late_fee=Decimal("0.00")) for n, amount in ((1, "100.00"), (2, "40.00"), (3, "75.00"))]
    session.add_all(invoices)
    await session.flush()
    i1, i2, i3 = (invoice.id for invoice in invoices)
    session.add_all([
        Reminder(invoice_id=i1, stage="friendly", channel="email", sent_at=at(1)),
        Reminder(invoice_id=i1, stage="firm", channel="email", sent_at=at(6)),
        Reminder(invoice_id=i2, stage="friendly", channel="email", sent_at=at(5)),
        Reminder(invoice_id=i3, stage="final", channel="email", sent_at=at(7)),
        Payment(invoice_id=i1, amount=Decimal("100.00"), currency="USD", paid_at=at(8), method="card"),
        Payment(invoice_id=i2, amount=Decimal("40.00"), currency="USD", paid_at=at(10), method="card"),
        Payment(invoice_id=i3, amount=Decimal("75.00"), currency="USD", paid_at=at(7, 14), method="bank"),
        PaymentAttempt(invoice_id=i2, attempted_at=at(3), amount=Decimal("40.00"), outcome="declined",
                       decline_code="insufficient_funds", decline_type="soft"),
        PaymentAttempt(invoice_id=i2, attempted_at=at(6), amount=Decimal("40.00"), outcome="succeeded"),
        PaymentAttempt(invoice_id=i1, attempted_at=at(6), amount=Decimal("100.00"), outcome="declined",
                       decline_code="stolen_card", decline_type="hard"),
    ] + [PromiseToPay(customer_id=CUSTOMER_ID, invoice_id=i1, kind="promise", amount=Decimal("100.00"),
                      currency="USD", promised_date=day, status=status, channel="chat", created_at=at(1))
         for day, status in ((dt.date(2024, 2, 6), "kept"), (dt.date(2024, 2, 9), "broken"),
                             (dt.date(2024, 2, 20), "kept"))])
    await session.flush()
    await _derived_columns(session)


async def _derived_columns(session) -> None:
    """The rows above are written directly, not through bot.conversations.store: set the columns
    its writers keep (each conversation's next start, each handoff's first agent reply)."""
    await returns.backfill(session)
    await handoffs.backfill_first_replies(session)


async def remove_history(session) -> None:
    """Deletes the fixture's rows (children first: SQLite does not cascade without its pragma)."""
    from sqlalchemy import delete, select

    conversations = select(Conversation.id).where(Conversation.public_id.like("fixture-%")).scalar_subquery()
    invoices = select(Invoice.id).where(Invoice.number.like("INV-FX%")).scalar_subquery()
    for model in (Handoff, Message, CsatRating):
        await session.execute(delete(model).where(model.conversation_id.in_(conversations)), **NO_SYNC)
    await session.execute(delete(Conversation).where(Conversation.public_id.like("fixture-%")), **NO_SYNC)
    for model in (Reminder, Payment, PaymentAttempt, PromiseToPay):
        await session.execute(delete(model).where(model.invoice_id.in_(invoices)), **NO_SYNC)
    await session.execute(delete(Invoice).where(Invoice.number.like("INV-FX%")), **NO_SYNC)
    await _derived_columns(session)


NO_SYNC = {"execution_options": {"synchronize_session": False}}
