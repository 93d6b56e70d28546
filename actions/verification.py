"""Identify, then verify, then help.

The verify form asks for an identifier (account number or email) and one
secret the account holds (ZIP code or the card's last four digits). Unknown
accounts and wrong secrets count as failed attempts; after the configured
number the verification locks and a person takes over. Text that contains no
identifier or secret at all is asked again without counting against the
customer. The secret itself is never kept in a slot.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.answers import ANSWERS
from actions.common import DATABASE_ERRORS, run_answer
from bot.accounts import queries
from bot.accounts.identifiers import account_number_in
from bot.accounts.verification import check_verification_secret
from bot.config import get_settings
from bot.db import session_scope

logger = logging.getLogger(__name__)

PROMISE_INTENTS = ("promise_to_pay", "request_extension")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
SECRET_DIGITS = re.compile(r"(?<!\d)(\d{5}|\d{4})(?!\d)")


def read_identifier(text: Optional[str]) -> Optional[str]:
    """An account number or email address found in what the customer typed."""
    if not text:
        return None
    email = EMAIL.search(text)
    if email:
        return email.group(0).lower()
    return account_number_in(text)


def read_secret(text: Optional[str]) -> Optional[str]:
    """Exactly one 4- or 5-digit number in the reply, or None."""
    found = SECRET_DIGITS.findall(text or "")
    return found[0] if len(found) == 1 else None


def _lock(attempts: int) -> Dict[Text, Any]:
    return {"verification_attempts": float(attempts), "verification_locked": True, "requested_slot": None}


class ValidateVerifyForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_verify_form"

    def _attempts(self, tracker: Tracker) -> int:
        return int(tracker.get_slot("verification_attempts") or 0) + 1

    async def validate_identifier(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> Dict[Text, Any]:
        if tracker.get_slot("verification_locked"):
            return {"identifier": None, "requested_slot": None}
        identifier = read_identifier(str(value) if value is not None else None)
        if identifier is None:
            dispatcher.utter_message(response="utter_identifier_not_understood")
            return {"identifier": None}
        try:
            async with session_scope() as session:
                customer = await queries.find_customer(session, identifier)
        except DATABASE_ERRORS:
            logger.exception("account database unavailable during verification")
            dispatcher.utter_message(response="utter_system_trouble")
            return {"identifier": None, "requested_slot": None}
        if customer is None:
            attempts = self._attempts(tracker)
            logger.info("verification: unknown account (attempt %d) in %s", attempts, tracker.sender_id)
            if attempts >= get_settings().verification_max_attempts:
                return {"identifier": None, **_lock(attempts)}
            dispatcher.utter_message(response="utter_account_not_found")
            return {"identifier": None, "verification_attempts": float(attempts)}
        return {"identifier": identifier}

    async def validate_secret(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> Dict[Text, Any]:
        if tracker.get_slot("verification_locked"):
            return {"secret": None, "requested_slot": None}
        secret = read_secret(str(value) if value is not None else None)
        if secret is None:
            dispatcher.utter_message(response="utter_secret_not_understood")
            return {"secret": None}
        try:
            async with session_scope() as session:
                customer = await queries.find_customer(session, tracker.get_slot("identifier") or "")
                matches = customer is not None and await check_verification_secret(session, customer.id, secret)
        except DATABASE_ERRORS:
            logger.exception("account database unavailable during verification")
            dispatcher.utter_message(response="utter_system_trouble")
            return {"secret": None, "requested_slot": None}
        if matches and customer is not None:
            logger.info("verification: customer %s verified in %s", customer.id, tracker.sender_id)
            return {
                "secret": "provided",  # never keep the secret itself
                "verified": True,
                "customer_id": str(customer.id),
                "customer_name": customer.first_name,
                "verification_attempts": 0.0,
            }
        attempts = self._attempts(tracker)
        logger.info("verification: wrong secret (attempt %d) in %s", attempts, tracker.sender_id)
        maximum = get_settings().verification_max_attempts
        if attempts >= maximum:
            return {"secret": None, **_lock(attempts)}
        dispatcher.utter_message(response="utter_secret_mismatch", remaining=maximum - attempts)
        return {"secret": None, "verification_attempts": float(attempts)}


def pending_request(tracker: Tracker) -> Optional[str]:
    """The account question the customer asked before verifying, so they need not repeat it."""
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if intent in ANSWERS or intent in PROMISE_INTENTS:
            return intent
    return None


class ActionVerificationComplete(Action):
    def name(self) -> Text:
        return "action_verification_complete"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        if tracker.get_slot("verification_locked"):
            dispatcher.utter_message(response="utter_verification_locked")
            return [SlotSet("verification_outcome", "locked")]
        if tracker.get_slot("verified") is not True:
            # The form ended without a result (the database was unreachable; already said).
            return [SlotSet("verification_outcome", "answered")]
        name = tracker.get_slot("customer_name")
        # For the hub: the conversation now belongs to this customer (never shown to them).
        dispatcher.utter_message(json_message={"verified": {"customer_id": int(tracker.get_slot("customer_id"))}})
        request = pending_request(tracker)
        if request in PROMISE_INTENTS:
            dispatcher.utter_message(response="utter_verified", name=name)
            return [SlotSet("promise_kind", request), SlotSet("verification_outcome", "continue_promise")]
        if request in ANSWERS:
            dispatcher.utter_message(response="utter_verified", name=name)
            events = await run_answer(ANSWERS[request], dispatcher, tracker, int(tracker.get_slot("customer_id")))
            return events + [SlotSet("verification_outcome", "answered")]
        dispatcher.utter_message(response="utter_verified_how_can_help", name=name)
        return [SlotSet("verification_outcome", "answered")]
