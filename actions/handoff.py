"""The one action every path to a person goes through.

It asks bot.escalation why (the same decision the EscalationPolicy made),
builds a summary for the agent (the hub records it with the handoff), tells the customer what
happens next and when, emits a ``{"handoff": {...}}`` payload for the hub, and
pauses the Rasa conversation so the bot stays silent until it is handed back.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, ConversationPaused, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import DATABASE_ERRORS, verified_customer_id
from bot import account_summary as summaries
from bot import handoff_reasons
from bot.business_hours import describe_hours, describe_opening, is_open, next_opening
from bot.config import get_settings, today
from bot.db import session_scope
from bot.escalation import Decision, decide, sentiment_trail, turns_since_resume

logger = logging.getLogger(__name__)

TRANSCRIPT_EVENTS = 30


def handoff_decision(tracker: Tracker) -> Decision:
    if tracker.get_slot("verification_locked"):
        locked = decide([], get_settings().escalation, verification_locked=True)
        assert locked is not None  # a locked verification always decides
        return locked
    if tracker.get_slot("promise_outcome") == "needs_person" and tracker.latest_action_name == "action_record_promise":
        return Decision(
            "extension_beyond_policy",
            handoff_reasons.priority("extension_beyond_policy"),
            "date past self-service limit",
        )
    decision = decide(turns_since_resume(tracker.events), get_settings().escalation)
    return decision or Decision(handoff_reasons.DEFAULT, handoff_reasons.DEFAULT_PRIORITY, "handoff requested")


def transcript(tracker: Tracker) -> List[Dict[str, Any]]:
    lines = []
    for event in tracker.events[-TRANSCRIPT_EVENTS * 3 :]:
        if event.get("event") in ("user", "bot") and event.get("text"):
            lines.append({"from": "customer" if event["event"] == "user" else "bot", "text": event["text"]})
    return lines[-TRANSCRIPT_EVENTS:]


async def account_summary(customer_id: Optional[int]) -> Optional[Dict[str, Any]]:
    """Verified identity, open invoices and dunning stage; None when unverified or unreachable."""
    if customer_id is None:
        return None
    async with session_scope() as session:
        summary = await summaries.account_summary(session, customer_id)
    return summary.for_handoff(today()) if summary else None


class ActionHandoff(Action):
    def name(self) -> Text:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        settings = get_settings()
        decision = handoff_decision(tracker)
        customer_id = verified_customer_id(tracker)
        now = dt.datetime.now(dt.timezone.utc)
        summary: Dict[str, Any] = {
            "conversation_id": tracker.sender_id,
            "reason": decision.reason,
            "priority": decision.priority,
            "detail": decision.detail,
            "sentiment_trail": sentiment_trail(turns_since_resume(tracker.events)),
            "verified": customer_id is not None,
            "account": None,
            "transcript": transcript(tracker),
            "requested_at": now.isoformat(),
        }
        try:
            summary["account"] = await account_summary(customer_id)
        except DATABASE_ERRORS:
            # The handoff still happens, without the account; the hub records it with the payload below.
            logger.exception("could not read the account for the handoff of %s", tracker.sender_id)
        logger.info("handoff %s: %s (%s)", tracker.sender_id, decision.reason, decision.detail)

        # Safety first: a gas smell hears the emergency number before anything else.
        values = {"gas_emergency_phone": settings.gas_emergency_phone} if decision.reason == "gas_emergency" else {}
        dispatcher.utter_message(response=handoff_reasons.response(decision.reason), **values)
        if not is_open(now, settings):
            opening = next_opening(now, settings)
            dispatcher.utter_message(
                response="utter_handoff_hours",
                hours=describe_hours(settings),
                next_open=describe_opening(opening, now, settings),
            )
        dispatcher.utter_message(json_message={"handoff": summary})

        events: List[Dict[Text, Any]] = [SlotSet("handoff_reason", decision.reason)]
        if tracker.active_loop.get("name"):
            events.append(ActiveLoop(None))
            events.append(SlotSet("requested_slot", None))
        events.append(ConversationPaused())
        return events
