"""The verify form's validators and the step after it (ActionVerificationComplete)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.verification import ActionVerificationComplete, ValidateVerifyForm
from bot.config import get_settings
from bot.db import session_scope
from bot.accounts import queries
from bot.nlu.amounts import format_money
from tests.actions.helpers import (  # noqa: F401 (fixtures)
    bot_event,
    customer,
    json_messages,
    database_down,
    load_domain,
    make_tracker,
    responses,
    user_event,
    verified_slots,
)


async def validate_identifier(value, **slots):
    dispatcher = CollectingDispatcher()
    result = await ValidateVerifyForm().validate_identifier(
        value, dispatcher, make_tracker(slots={**slots}, active_loop={"name": "verify_form"}), {}
    )
    return result, responses(dispatcher)


async def validate_secret(value, identifier="AC-100005", **slots):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(slots={"identifier": identifier, **slots}, active_loop={"name": "verify_form"})
    result = await ValidateVerifyForm().validate_secret(value, dispatcher, tracker, {})
    return result, responses(dispatcher)


# --- identifier ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, identifier",
    [
        ("my account is ac 100005", "AC-100005"),
        ("AC-100005", "AC-100005"),
        ("it's Li.Wei@Example.com thanks", "li.wei@example.com"),
        ("100005", "AC-100005"),
    ],
)
async def test_identifier_is_read_from_text(any_db, text, identifier):
    assert await validate_identifier(text) == ({"identifier": identifier}, [])


async def test_text_without_identifier_is_asked_again_without_counting(sqlite_db):
    result, said = await validate_identifier("I just want to know what I owe", verification_attempts=1.0)
    assert result == {"identifier": None}  # no verification_attempts: nothing counted
    assert said == [{"response": "utter_identifier_not_understood"}]


async def test_unknown_account_counts_an_attempt(sqlite_db):
    result, said = await validate_identifier("AC-999999")
    assert result == {"identifier": None, "verification_attempts": 1.0}
    assert said == [{"response": "utter_account_not_found"}]


async def test_unknown_email_counts_an_attempt(sqlite_db):
    result, said = await validate_identifier("nobody@example.com", verification_attempts=1.0)
    assert result == {"identifier": None, "verification_attempts": 2.0}
    assert said == [{"response": "utter_account_not_found"}]


async def test_third_unknown_account_locks_verification(sqlite_db):
    result, said = await validate_identifier("AC-999999", verification_attempts=2.0)
    assert result == {
        "identifier": None,
        "verification_attempts": 3.0,
        "verification_locked": True,
        "requested_slot": None,
    }
    assert said == []  # ActionVerificationComplete tells the customer


async def test_locked_verification_ends_the_form_at_the_identifier(sqlite_db):
    result, said = await validate_identifier("AC-100005", verification_locked=True, verification_attempts=3.0)
    assert result == {"identifier": None, "requested_slot": None}
    assert said == []


async def test_identifier_with_database_down_answers_system_trouble(database_down):
    result, said = await validate_identifier("AC-100005")
    assert result == {"identifier": None, "requested_slot": None}
    assert said == [{"response": "utter_system_trouble"}]


# --- secret ---------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["98101", "my zip is 98101", "3220", "card ending in 3220"])
async def test_right_zip_or_last_four_verifies(any_db, text):
    li = await customer("AC-100005")
    result, said = await validate_secret(text)
    assert result == {
        "secret": "provided",
        "verified": True,
        "customer_id": str(li.id),
        "customer_name": "Li",
        "verification_attempts": 0.0,
    }
    assert said == []
    assert not any(secret in str(value) for value in result.values() for secret in ("98101", "3220"))


async def test_right_secret_for_an_email_identifier(sqlite_db):
    omar = await customer("AC-100016")
    result, _ = await validate_secret("48201", identifier="omar.haddad@example.com")
    assert (result["verified"], result["customer_id"], result["customer_name"], result["secret"]) == (
        True, str(omar.id), "Omar", "provided")


async def test_wrong_secret_says_how_many_attempts_remain(sqlite_db):
    result, said = await validate_secret("98102")
    assert result == {"secret": None, "verification_attempts": 1.0}
    assert said == [{"response": "utter_secret_mismatch", "remaining": 2}]


async def test_wrong_secret_after_an_unknown_account_counts_on(sqlite_db):
    result, said = await validate_secret("4242", verification_attempts=1.0)  # Maria's card, not Li's
    assert result == {"secret": None, "verification_attempts": 2.0}
    assert said == [{"response": "utter_secret_mismatch", "remaining": 1}]


async def test_another_customers_secret_does_not_verify(sqlite_db):
    result, said = await validate_secret("94107")  # Maria Lopez's ZIP, tried on Li Wei's account
    assert result == {"secret": None, "verification_attempts": 1.0}
    assert [r["response"] for r in said] == ["utter_secret_mismatch"]


@pytest.mark.parametrize("text", ["I don't know", "it's 94107 or 4242", "12"])
async def test_reply_without_one_secret_is_asked_again_without_counting(sqlite_db, text):
    result, said = await validate_secret(text, verification_attempts=1.0)
    assert result == {"secret": None}
    assert said == [{"response": "utter_secret_not_understood"}]


async def test_third_failure_locks_verification(sqlite_db):
    result, said = await validate_secret("00000", verification_attempts=2.0)
    assert result == {
        "secret": None,
        "verification_attempts": 3.0,
        "verification_locked": True,
        "requested_slot": None,
    }
    assert said == []


async def test_locked_verification_ends_the_form_at_the_secret(sqlite_db):
    # Even the right secret is not checked once verification is locked.
    result, said = await validate_secret("98101", verification_locked=True, verification_attempts=3.0)
    assert result == {"secret": None, "requested_slot": None}
    assert said == []


async def test_secret_with_database_down_answers_system_trouble(database_down):
    result, said = await validate_secret("98101")
    assert result == {"secret": None, "requested_slot": None}
    assert said == [{"response": "utter_system_trouble"}]


# --- after the form -------------------------------------------------------------------------


def verification_events(first_intent, first_text):
    return [
        user_event(first_intent, first_text),
        bot_event("What's your account number or email?"),
        user_event("provide_identifier", "AC-100005"),
        bot_event("Now the ZIP code or last four digits, please."),
        user_event(None, "98101"),
    ]


async def complete(slots, events):
    dispatcher = CollectingDispatcher()
    result = await ActionVerificationComplete().run(dispatcher, make_tracker(slots=slots, events=events), domain={})
    return result, responses(dispatcher)


async def test_complete_when_locked(sqlite_db):
    result, said = await complete({"verification_locked": True, "verification_attempts": 3.0},
                                  verification_events("check_balance", "what do I owe"))
    assert result == [SlotSet("verification_outcome", "locked")]
    assert said == [{"response": "utter_verification_locked"}]


async def test_complete_answers_the_pending_question(any_db):
    li = await customer("AC-100005")
    async with session_scope() as session:
        invoices = await queries.invoices_for(session, li.id, ("open",))
    due = sum((i.amount + i.late_fee - i.paid for i in invoices), Decimal("0.00"))
    assert due == Decimal("439.15")  # 414.15 + the 25.00 late fee of the final notice

    result, said = await complete(verified_slots(li), verification_events("check_balance", "what do I owe"))
    assert result == [SlotSet("verification_outcome", "answered")]
    assert said == [
        {"response": "utter_verified", "name": "Li"},
        {"response": "utter_balance", "name": "Li", "amount": format_money(due, "USD"), "count": len(invoices)},
    ]


@pytest.mark.parametrize("intent", ["promise_to_pay", "request_extension"])
async def test_complete_continues_a_pending_promise(sqlite_db, intent):
    li = await customer("AC-100005")
    result, said = await complete(verified_slots(li), verification_events(intent, "I can pay on friday"))
    assert result == [SlotSet("promise_kind", intent), SlotSet("verification_outcome", "continue_promise")]
    assert said == [{"response": "utter_verified", "name": "Li"}]


async def test_complete_without_a_pending_question_asks_how_to_help(sqlite_db):
    li = await customer("AC-100005")
    result, said = await complete(verified_slots(li), verification_events("greet", "hi"))
    assert result == [SlotSet("verification_outcome", "answered")]
    assert said == [{"response": "utter_verified_how_can_help", "name": "Li"}]


async def test_complete_tells_the_hub_who_was_verified(sqlite_db):
    li = await customer("AC-100005")
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(slots=verified_slots(li), events=verification_events("greet", "hi"))
    await ActionVerificationComplete().run(dispatcher, tracker, domain={})
    assert json_messages(dispatcher) == [{"verified": {"customer_id": li.id}}]


async def test_complete_when_locked_tells_the_hub_nothing(sqlite_db):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(slots={"verification_locked": True}, events=verification_events("greet", "hi"))
    await ActionVerificationComplete().run(dispatcher, tracker, domain={})
    assert json_messages(dispatcher) == []


async def test_complete_uses_the_latest_pending_question(sqlite_db):
    maria = await customer("AC-100001")
    events = [user_event("check_balance", "balance?"), user_event("card_expiring", "is my card expiring?"),
              user_event("provide_identifier", "AC-100001"), user_event(None, "4242")]
    result, said = await complete(verified_slots(maria), events)
    assert result == [SlotSet("verification_outcome", "answered")]
    assert said == [
        {"response": "utter_verified", "name": "Maria"},
        {"response": "utter_card_ok", "brand": "Visa", "last4": "4242", "expiry": "July 2028",
         "card_link": get_settings().card_update_link},
    ]


async def test_complete_without_a_result_says_nothing_more(database_down):
    # The form ended because the database was unreachable; the customer heard it already.
    result, said = await complete({}, verification_events("check_balance", "what do I owe"))
    assert result == [SlotSet("verification_outcome", "answered")]
    assert said == []


# --- the whole validation step, as Rasa calls it --------------------------------------------


def form_tracker(reply, slot, **slots):
    """The tracker after Rasa extracted ``reply`` into ``slot`` while the form asked for it."""
    return make_tracker(
        slots={"requested_slot": slot, slot: reply, **slots},
        events=[bot_event("Please tell me..."), user_event(None, reply),
                {"event": "slot", "timestamp": None, "name": slot, "value": reply}],
        active_loop={"name": "verify_form"},
    )


async def test_form_run_verifies_without_keeping_the_secret(sqlite_db):
    li = await customer("AC-100005")
    dispatcher = CollectingDispatcher()
    events = await ValidateVerifyForm().run(
        dispatcher, form_tracker("my zip code is 98101", "secret", identifier="AC-100005"), load_domain())
    assert events == [
        SlotSet("secret", "provided"),
        SlotSet("verified", True),
        SlotSet("customer_id", str(li.id)),
        SlotSet("customer_name", "Li"),
        SlotSet("verification_attempts", 0.0),
    ]
    assert "98101" not in str(events) and dispatcher.messages == []


async def test_form_run_ends_the_form_on_the_third_failure(sqlite_db):
    dispatcher = CollectingDispatcher()
    events = await ValidateVerifyForm().run(
        dispatcher, form_tracker("98102", "secret", identifier="AC-100005", verification_attempts=2.0), load_domain())
    assert events == [
        SlotSet("secret", None),
        SlotSet("verification_attempts", 3.0),
        SlotSet("verification_locked", True),
        SlotSet("requested_slot", None),  # Rasa ends the form on this
    ]
    assert dispatcher.messages == []
