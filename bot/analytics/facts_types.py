"""The raw facts the report metrics are computed from: plain, immutable records.

:mod:`bot.analytics.facts` loads them from the database; :mod:`bot.analytics.metrics`
computes every figure from them without touching the database. Times are aware UTC.
Where a period holds many of a kind (conversations, ratings, reminders, charge attempts;
promises by day), the facts come counted by UTC hour and by what the metrics look at, so a
90-day report moves thousands of rows, not hundreds of thousands; ``n`` says how many
are alike (a field named ``count`` would hide the tuple method of that name).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import NamedTuple, Optional


class ConversationFact(NamedTuple):
    """Conversations that started in one UTC hour and are alike in what the metrics use."""

    hour: dt.datetime
    channel: str
    handed_off: bool  # handed to a person at least once
    # Days (rounded up) from its end until the same customer started another conversation;
    # ``reopen_days + 1`` when later or never (no later day changes any figure).
    days_to_return: int
    n: int


class ResolvedFact(NamedTuple):
    """A resolved conversation that started in the period: how long it took."""

    created_at: dt.datetime
    seconds: float


class HandoffFact(NamedTuple):
    conversation_id: int
    channel: str
    reason: str
    requested_at: dt.datetime
    taken_at: Optional[dt.datetime]
    ended_at: Optional[dt.datetime]
    # The first message an agent wrote in the conversation after the request.
    first_agent_reply_at: Optional[dt.datetime]


class RatingFact(NamedTuple):
    hour: dt.datetime
    rating: int
    n: int


class ReminderFact(NamedTuple):
    hour: dt.datetime
    stage: str
    n: int


class PaymentFact(NamedTuple):
    """A payment, and the last reminder of its invoice sent at or before it (if any)."""

    paid_at: dt.datetime
    amount: Decimal
    last_stage: Optional[str]
    last_sent_at: Optional[dt.datetime]


class PromiseFact(NamedTuple):
    """Promises to pay due on one day with one status."""

    promised_date: dt.date
    status: str  # active | kept | broken | cancelled
    n: int = 1


class AttemptFact(NamedTuple):
    """Charge attempts made in one UTC hour with the same outcome, and whether their invoice had
    a soft decline before them: how many and their amount together."""

    attempted_at: dt.datetime  # the UTC hour
    amount: Decimal  # of them all
    outcome: str  # succeeded | declined
    after_soft_decline: bool
    n: int = 1
