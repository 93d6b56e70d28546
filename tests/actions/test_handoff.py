"""The handoff to a person: the reason, what the customer hears, the agent's summary,
what the hub records with the handoff, and pausing the conversation."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from types import SimpleNamespace

import pytest
from rasa_sdk.events import ActiveLoop, ConversationPaused, SlotSet
from sqlalchemy import select

from actions.handoff import ActionHandoff
from bot.db import session_scope
from bot.accounts import queries
from bot.dunning import history
from tests.actions.helpers import (  # noqa: F401 (fixtures)
    bot_event,
    customer,
    database_down,
    run_action,
    user_event,
    verified_slots,
)
from tests.conftest import TODAY, use_settings

# Open around the clock, to the last microsecond (conftest's default closes at 23:59).
ALWAYS_OPEN = dict(business_hours="00:00-23:59:59.999999", business_days="mon,tue,wed,thu,fri,sat,sun")
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


@pytest.fixture
def db(any_db, monkeypatch) -> str:
    use_settings(monkeypatch, database_url=any_db, **ALWAYS_OPEN)
    return any_db


@pytest.fixture
def sqlite(sqlite_db, monkeypatch) -> str:
    use_settings(monkeypatch, database_url=sqlite_db, **ALWAYS_OPEN)
    return sqlite_db


@pytest.fixture
def sender_id() -> str:
    """A new conversation id per test: on PostgreSQL the database is shared by the run."""
    return f"test-{uuid.uuid4().hex}"


def asked_for(intent, text, negative=0.0):
    return [
        user_event("greet", "hello"),
        bot_event("Hi! How can I help?"),
        user_event(intent, text, negative=negative),
    ]


async def handoff(sender_id, events, **tracker_args):
    return await run_action(ActionHandoff(), sender_id=sender_id, events=events, **tracker_args)


def recorded(ran):
    """What the hub records as the handoff (bot/hub/routing.py stores this payload with it)."""
    summary = payload(ran)
    return SimpleNamespace(reason=summary["reason"], priority=summary["priority"],
                           customer_id=(summary["account"] or {}).get("customer_id"), summary=json.dumps(summary))


def payload(ran):
    assert len(ran.json) == 1 and set(ran.json[0]) == {"handoff"}
    return ran.json[0]["handoff"]


async def test_asking_for_a_person(db, sender_id):
    started = dt.datetime.now(dt.timezone.utc)
    ran = await handoff(sender_id, asked_for("request_human", "can I talk to a person please"))

    assert ran.events == [SlotSet("handoff_reason", "asked_for_person"), ConversationPaused()]
    assert ran.events[-1] == {"event": "pause", "timestamp": None}
    assert ran.said == [{"response": "utter_handoff"}]

    summary = payload(ran)
    requested_at = dt.datetime.fromisoformat(summary["requested_at"])
    assert started <= requested_at <= dt.datetime.now(dt.timezone.utc)
    row = recorded(ran)
    assert summary == {
        "conversation_id": sender_id,
        "reason": "asked_for_person",
        "priority": 2,
        "detail": "intent request_human",
        "sentiment_trail": [
            {"text": "hello", "sentiment": "neutral", "negative": 0.0},
            {"text": "can I talk to a person please", "sentiment": "neutral", "negative": 0.0},
        ],
        "verified": False,
        "account": None,
        "transcript": [
            {"from": "customer", "text": "hello"},
            {"from": "bot", "text": "Hi! How can I help?"},
            {"from": "customer", "text": "can I talk to a person please"},
        ],
        "requested_at": summary["requested_at"],
    }
    # The agent's copy is the same summary.
    assert (row.reason, row.priority, row.customer_id) == ("asked_for_person", 2, None)
    assert json.loads(row.summary) == {k: v for k, v in summary.items() if k != "escalation_id"}


async def test_an_active_form_is_deactivated(sqlite, sender_id):
    ran = await handoff(sender_id, asked_for("request_human", "agent"),
                        active_loop={"name": "verify_form"}, slots={"requested_slot": "secret"})
    assert ran.events == [
        SlotSet("handoff_reason", "asked_for_person"),
        ActiveLoop(None),
        SlotSet("requested_slot", None),
        ConversationPaused(),
    ]


async def test_hardship(db, sender_id):
    ran = await handoff(sender_id, asked_for("cannot_pay", "I lost my job and can't pay this month", 0.6))
    assert ran.said == [{"response": "utter_handoff_hardship"}]
    assert ran.events == [SlotSet("handoff_reason", "hardship"), ConversationPaused()]
    summary = payload(ran)
    assert (summary["reason"], summary["priority"]) == ("hardship", 1)
    row = recorded(ran)
    assert (row.reason, row.priority) == ("hardship", 1)


@pytest.mark.parametrize("intent, text, negative, reason, priority, response", [
    ("dispute_charge", "this charge is wrong, I dispute it", 0.3, "dispute", 2, "utter_handoff_dispute"),
    ("cancel_account", "I want to close my account", 0.1, "cancellation", 3, "utter_handoff_cancellation"),
    ("charged_twice", "you charged me twice", 0.4, "billing_error", 2, "utter_handoff_billing"),
    ("refund_request", "I want my money back", 0.3, "refund", 2, "utter_handoff_billing"),
    ("complain", "I'll see you in court", 0.4, "legal_threat", 1, "utter_handoff_anger"),
    ("complain", "this is absolutely outrageous", 0.95, "anger", 1, "utter_handoff_anger"),
    ("card_stolen", "I think someone stole my card", 0.5, "card_security", 1, "utter_handoff_card_stolen"),
])
async def test_each_reason_has_its_own_words(sqlite, sender_id, intent, text, negative, reason, priority, response):
    ran = await handoff(sender_id, asked_for(intent, text, negative))
    assert ran.said == [{"response": response}]
    assert ran.events == [SlotSet("handoff_reason", reason), ConversationPaused()]
    assert (payload(ran)["reason"], payload(ran)["priority"]) == (reason, priority)


async def test_a_gas_smell_gets_the_emergency_number_first_and_a_person(sqlite, sender_id, monkeypatch):
    use_settings(monkeypatch, database_url=sqlite, gas_emergency_phone="+1 800 555 0123", **ALWAYS_OPEN)
    ran = await handoff(sender_id, asked_for("gas_leak", "I can smell gas in the kitchen", 0.4))
    assert ran.said[0] == {"response": "utter_handoff_gas_emergency", "gas_emergency_phone": "+1 800 555 0123"}
    assert ran.events == [SlotSet("handoff_reason", "gas_emergency"), ConversationPaused()]
    assert (payload(ran)["reason"], payload(ran)["priority"]) == ("gas_emergency", 1)
    row = recorded(ran)
    assert (row.reason, row.priority) == ("gas_emergency", 1)


async def test_locked_verification(db, sender_id):
    events = asked_for("check_balance", "what do I owe") + [user_event("provide_identifier", "AC-999999")]
    ran = await handoff(sender_id, events, slots={"verification_locked": True, "verification_attempts": 3.0})
    assert ran.said == [{"response": "utter_handoff"}]
    assert ran.events == [SlotSet("handoff_reason", "verification_locked"), ConversationPaused()]
    summary = payload(ran)
    assert (summary["reason"], summary["priority"], summary["verified"], summary["account"]) == (
        "verification_locked", 1, False, None)
    row = recorded(ran)
    assert (row.reason, row.priority, row.customer_id) == ("verification_locked", 1, None)


async def test_extension_beyond_policy(sqlite, sender_id):
    li = await customer("AC-100005")
    ran = await handoff(sender_id, asked_for("request_extension", "can I pay in march?"),
                        slots=verified_slots(li, promise_outcome="needs_person"),
                        latest_action_name="action_record_promise")
    assert ran.events == [SlotSet("handoff_reason", "extension_beyond_policy"), ConversationPaused()]
    assert (payload(ran)["reason"], payload(ran)["priority"]) == ("extension_beyond_policy", 3)
    assert ran.said == [{"response": "utter_handoff"}]


async def test_verified_customer_summary_includes_the_account(db, sender_id):
    li = await customer("AC-100005")
    async with session_scope() as session:
        (invoice,) = await queries.invoices_for(session, li.id)
        reminder = await history.latest_reminder(session, li.id)

    ran = await handoff(sender_id, asked_for("request_human", "let me speak to someone"), slots=verified_slots(li))
    assert ran.events == [SlotSet("handoff_reason", "asked_for_person"), ConversationPaused()]
    summary = payload(ran)
    assert summary["verified"] is True
    assert summary["account"] == {
        "customer_id": li.id,
        "account_number": "AC-100005",
        "name": "Li Wei",
        "email": "li.wei@example.com",
        "open_invoices": [{
            "number": invoice.number,
            "amount_due": str(invoice.amount_due),
            "currency": "USD",
            "due_on": invoice.due_on.isoformat(),
            "days_overdue": 75,
            "status": "open",
        }],
        "dunning_stage": "final",
        "last_reminder": {"stage": "final", "invoice": invoice.number, "sent_at": reminder.sent_at.isoformat()},
        "active_promise": None,
    }
    assert summary["account"]["open_invoices"][0]["amount_due"] == str(invoice.amount + invoice.late_fee)
    row = recorded(ran)
    assert row.customer_id == li.id
    assert json.loads(row.summary)["account"]["open_invoices"] == summary["account"]["open_invoices"]


async def test_summary_dunning_stage_is_the_furthest_one_reached(db, sender_id):
    daniel = await customer("AC-100007")  # 150 days overdue (collections) plus a newer invoice
    async with session_scope() as session:
        oldest, newer = await queries.invoices_for(session, daniel.id)
        latest = await history.latest_reminder(session, daniel.id)
    assert (latest.stage, latest.invoice.number) == ("friendly", newer.number)

    ran = await handoff(sender_id, asked_for("request_human", "agent"), slots=verified_slots(daniel))
    account = payload(ran)["account"]
    assert account["dunning_stage"] == "final"  # collections, not the newer invoice's friendly reminder
    assert account["last_reminder"] == {"stage": "friendly", "invoice": newer.number,
                                        "sent_at": latest.sent_at.isoformat()}
    assert [i["number"] for i in account["open_invoices"]] == [oldest.number, newer.number]


async def test_summary_of_a_paid_up_customer(sqlite, sender_id):
    maria = await customer("AC-100001")
    ran = await handoff(sender_id, asked_for("request_human", "agent"), slots=verified_slots(maria))
    account = payload(ran)["account"]
    assert (account["open_invoices"], account["dunning_stage"], account["last_reminder"]) == ([], None, None)


async def test_summary_shows_an_active_promise(sqlite, sender_id):
    chloe = await customer("AC-100012")
    ran = await handoff(sender_id, asked_for("request_human", "agent please"), slots=verified_slots(chloe))
    assert payload(ran)["account"]["active_promise"] == {
        "date": (TODAY + dt.timedelta(days=6)).isoformat(), "kind": "promise"}


async def test_what_was_said_before_a_hand_back_does_not_count(sqlite, sender_id):
    events = asked_for("cannot_pay", "I can't pay", 0.7) + [
        {"event": "pause", "timestamp": None},
        {"event": "resume", "timestamp": None},
        user_event("request_human", "one more question for a person"),
    ]
    ran = await handoff(sender_id, events)
    assert ran.said == [{"response": "utter_handoff"}]
    summary = payload(ran)
    assert summary["reason"] == "asked_for_person"
    assert summary["sentiment_trail"] == [
        {"text": "one more question for a person", "sentiment": "neutral", "negative": 0.0}]
    assert [line["text"] for line in summary["transcript"]] == [  # the agent still sees everything
        "hello", "Hi! How can I help?", "I can't pay", "one more question for a person"]


async def test_outside_business_hours(sqlite_db, monkeypatch, sender_id):
    # Open one day a week, on a day that is neither today nor tomorrow where the team works.
    settings = use_settings(monkeypatch, database_url=sqlite_db)
    local_today = dt.datetime.now(settings.tz).date()
    open_day = local_today + dt.timedelta(days=3)
    use_settings(monkeypatch, database_url=sqlite_db, business_hours="09:00-10:00",
                 business_days=WEEKDAYS[open_day.weekday()])

    ran = await handoff(sender_id, asked_for("request_human", "a human please"))
    assert ran.said == [
        {"response": "utter_handoff"},
        {"response": "utter_handoff_hours",
         "hours": f"{open_day:%A}, 09:00 to 10:00 (America/New_York)",
         "next_open": f"{open_day:%A} at 09:00"},
    ]
    assert ran.events == [SlotSet("handoff_reason", "asked_for_person"), ConversationPaused()]
    assert payload(ran)["reason"] == "asked_for_person"
    assert len([j for j in ran.json if "handoff" in j]) == 1


async def test_inside_business_hours_says_nothing_about_hours(sqlite, sender_id):
    ran = await handoff(sender_id, asked_for("request_human", "a human please"))
    assert "utter_handoff_hours" not in [r["response"] for r in ran.said]


async def test_handoff_still_happens_when_the_database_is_down(database_down, monkeypatch, sender_id):
    use_settings(monkeypatch, database_url=database_down, **ALWAYS_OPEN)
    ran = await handoff(sender_id, asked_for("request_human", "agent"),
                        slots={"verified": True, "customer_id": "5", "customer_name": "Li"},
                        active_loop={"name": "promise_form"})
    assert ran.said == [{"response": "utter_handoff"}]
    assert ran.events == [
        SlotSet("handoff_reason", "asked_for_person"),
        ActiveLoop(None),
        SlotSet("requested_slot", None),
        ConversationPaused(),
    ]
    summary = payload(ran)
    assert (summary["reason"], summary["priority"], summary["verified"], summary["account"]) == (
        "asked_for_person", 2, True, None)
    assert "escalation_id" not in summary  # nothing was recorded; the hub keeps this payload
