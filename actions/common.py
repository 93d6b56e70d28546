"""What every account action shares: the verification guard, database access
with a polite answer when it fails, acknowledging feelings, and formatting.

Account answers are plain async functions, listed by intent in ``actions.answers``,
so the action for an intent and the verification step (which answers the question
the customer asked before verifying) run the same code.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Awaitable, Callable, Dict, List, Optional

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.accounts.queries import get_customer
from bot.accounts.views import CustomerView
from bot.config import Settings, get_settings, today
from bot.db import session_scope
from bot.nlu.amounts import format_money
from bot.nlu.dates import date_in_words

logger = logging.getLogger(__name__)

# Failures of the account database that the customer hears about politely.
DATABASE_ERRORS = (SQLAlchemyError, OSError, ConnectionError, asyncio.TimeoutError)
DATABASE_TIMEOUT_SECONDS = 10


@dataclass
class AnswerContext:
    session: AsyncSession
    customer: CustomerView
    dispatcher: CollectingDispatcher
    tracker: Tracker
    today: dt.date
    settings: Settings

    def say(self, response: str, **values: Any) -> None:
        self.dispatcher.utter_message(response=response, **values)

    def money(self, amount: Decimal, currency: str) -> str:
        return format_money(amount, currency)

    def day(self, date: dt.date) -> str:
        return date_in_words(date, self.today)

    def payment_link(self, invoice_number: str) -> str:
        return f"{self.settings.payment_link_base}{invoice_number}"


Answer = Callable[[AnswerContext], Awaitable[List[Dict[str, Any]]]]


def verified_customer_id(tracker: Tracker) -> Optional[int]:
    """The verified customer's id, or None: nothing is shown without it."""
    if tracker.get_slot("verified") is not True:
        return None
    raw = tracker.get_slot("customer_id")
    try:
        return int(raw) if raw is not None else None
    except (TypeError, ValueError):
        return None


def latest_negativity(tracker: Tracker) -> float:
    sentiment = (tracker.latest_message or {}).get("sentiment") or {}
    return float((sentiment.get("scores") or {}).get("negative", 0.0))


def acknowledge_feelings(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    """Feelings before facts: an upset customer hears that first."""
    if latest_negativity(tracker) >= get_settings().escalation.negative:
        dispatcher.utter_message(response="utter_empathy")


async def run_answer(
    answer: Answer,
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    customer_id: int,
) -> List[Dict[str, Any]]:
    """Runs an answer in one database transaction; a database failure gets a polite reply."""
    settings = get_settings()
    try:
        async with session_scope() as session:
            customer = await asyncio.wait_for(get_customer(session, customer_id), DATABASE_TIMEOUT_SECONDS)
            if customer is None:
                logger.warning("verified customer %s no longer exists", customer_id)
                dispatcher.utter_message(response="utter_need_verification")
                return [{"event": "slot", "name": "verified", "value": False}]
            context = AnswerContext(session, customer, dispatcher, tracker, today(settings), settings)
            return await asyncio.wait_for(answer(context), DATABASE_TIMEOUT_SECONDS)
    except DATABASE_ERRORS:
        logger.exception("account database unavailable while answering %s", tracker.sender_id)
        dispatcher.utter_message(response="utter_system_trouble")
        return []


async def answer_for_verified(
    answer: Answer, dispatcher: CollectingDispatcher, tracker: Tracker
) -> List[Dict[str, Any]]:
    """The guard every account action goes through."""
    customer_id = verified_customer_id(tracker)
    if customer_id is None:
        dispatcher.utter_message(response="utter_need_verification")
        return []
    acknowledge_feelings(dispatcher, tracker)
    return await run_answer(answer, dispatcher, tracker, customer_id)
