"""Why a reminder was sent, promises to pay, and requests for more time."""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.account import AccountQuestion
from actions.common import AnswerContext, answer_for_verified
from bot.accounts import queries
from bot.config import today
from bot.dunning import history
from bot.dunning.history import STAGE_WORDS
from bot.nlu.amounts import parse_amount
from bot.nlu.dates import parse_date

logger = logging.getLogger(__name__)


async def why_reminder(ctx: AnswerContext) -> List[Dict[str, Any]]:
    number = ctx.tracker.get_slot("invoice_number")
    reminder = await history.latest_reminder(ctx.session, ctx.customer.id, number)
    if reminder is None and number:
        # A stale or mistyped invoice number must not hide the reminders the customer did get.
        reminder = await history.latest_reminder(ctx.session, ctx.customer.id)
    if reminder is None:
        ctx.say("utter_no_reminders", name=ctx.customer.first_name, support_email=ctx.settings.support_email)
        return []
    invoice = reminder.invoice
    values = dict(
        number=invoice.number,
        amount=ctx.money(invoice.amount_due, invoice.currency),
        due=ctx.day(invoice.due_on),
        sent=ctx.day(reminder.sent_at.date()),
        link=ctx.payment_link(invoice.number),
    )
    if invoice.amount_due <= 0:
        ctx.say("utter_why_reminder_paid", number=invoice.number)
    elif reminder.stage == "upcoming" or invoice.due_on >= ctx.today:
        ctx.say("utter_why_reminder_upcoming", **values)
    else:
        ctx.say(
            "utter_why_reminder",
            stage=STAGE_WORDS.get(reminder.stage, reminder.stage),
            days=invoice.days_overdue(ctx.today),
            **values,
        )
    promise = await queries.active_promise(ctx.session, ctx.customer.id)
    if promise is not None:
        ctx.say("utter_active_promise", date=ctx.day(promise.promised_date))
    return []


class ActionWhyReminder(AccountQuestion, Action):
    intent = "why_reminder"
    answer = staticmethod(why_reminder)


def read_promise_date(value: Any, reference: dt.date) -> Optional[dt.date]:
    """An ISO date (from the entity normaliser) or free text such as 'friday'."""
    if value is None:
        return None
    text = str(value).strip()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return parse_date(text, reference)


class ValidatePromiseForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_promise_form"

    async def validate_promise_date(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> Dict[Text, Any]:
        reference = today()
        date = read_promise_date(value, reference)
        if date is None:
            dispatcher.utter_message(response="utter_promise_date_not_understood")
            return {"promise_date": None}
        if date < reference:
            dispatcher.utter_message(response="utter_promise_date_past")
            return {"promise_date": None}
        return {"promise_date": date.isoformat()}


def _promise_kind(tracker: Tracker) -> str:
    kind = tracker.get_slot("promise_kind")
    if kind in ("promise_to_pay", "request_extension"):
        return kind
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
            if intent in ("promise_to_pay", "request_extension"):
                return intent
    return "promise_to_pay"


async def record_promise(ctx: AnswerContext) -> List[Dict[str, Any]]:
    reset = [SlotSet("promise_date", None), SlotSet("promise_amount", None), SlotSet("promise_kind", None)]
    date = read_promise_date(ctx.tracker.get_slot("promise_date"), ctx.today)
    number = ctx.tracker.get_slot("invoice_number")
    invoice = await queries.invoice_by_number(ctx.session, ctx.customer.id, number) if number else None
    if invoice is None or invoice.amount_due <= 0:
        invoice = await queries.next_invoice_due(ctx.session, ctx.customer.id)
    if invoice is None or date is None:
        ctx.say("utter_nothing_to_promise", name=ctx.customer.first_name)
        return reset + [SlotSet("promise_outcome", "recorded")]

    limit = max(invoice.due_on, ctx.today) + dt.timedelta(days=ctx.settings.max_extension_days)
    if date > limit:
        ctx.say("utter_extension_needs_person", date=ctx.day(date), max_days=ctx.settings.max_extension_days)
        return reset + [SlotSet("promise_outcome", "needs_person")]

    parsed = parse_amount(ctx.tracker.get_slot("promise_amount") or "")
    amount, currency = parsed if parsed and parsed[1] == invoice.currency else (invoice.amount_due, invoice.currency)
    kind = "extension" if _promise_kind(ctx.tracker) == "request_extension" else "promise"
    now = dt.datetime.now(dt.timezone.utc)
    await queries.record_promise(
        ctx.session,
        ctx.customer.id,
        date,
        now,
        invoice_number=invoice.number,
        amount=Decimal(amount),
        currency=currency,
        kind=kind,
        channel="chat",
    )
    logger.info("recorded %s for customer %s until %s", kind, ctx.customer.id, date)
    response = "utter_extension_granted" if kind == "extension" else "utter_promise_recorded"
    ctx.say(response, name=ctx.customer.first_name, amount=ctx.money(amount, currency), date=ctx.day(date))
    return reset + [SlotSet("promise_outcome", "recorded")]


class ActionRecordPromise(Action):
    def name(self) -> Text:
        return "action_record_promise"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        return await answer_for_verified(record_promise, dispatcher, tracker)
