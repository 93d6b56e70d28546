"""The bot answers from the same records the engine writes, and a promise made in the chat
pauses the engine until the promised date."""

from actions.reminders import ActionRecordPromise, ActionWhyReminder
from bot.accounts import queries
from bot.db import session_scope
from tests.actions.helpers import run_action, verified_slots
from tests.bot.dunning.conftest import at


async def verified(made):
    async with session_scope() as session:
        return verified_slots(await queries.get_customer(session, made.customer_id))


async def test_why_did_i_get_a_reminder_names_the_letter_the_engine_sent(world):
    made = await world.customer([3], sent=["upcoming"])
    await world.run(at(0))
    ran = await run_action(ActionWhyReminder(), slots=await verified(made))
    assert [(r["response"], r["stage"], r["days"], r["number"], r["link"]) for r in ran.said] == [
        ("utter_why_reminder", "friendly", 3, made.numbers[0],
         f"https://pay.northwind.example/invoice/{made.numbers[0]}")]


async def test_a_promise_made_in_the_chat_pauses_dunning_until_its_date(world):
    made = await world.customer([27], sent=["upcoming", "friendly"])
    ran = await run_action(ActionRecordPromise(), slots={**await verified(made), "promise_date": "2026-11-25",
                                                         "promise_kind": "promise_to_pay"})
    assert ran.said[0]["response"] == "utter_promise_recorded"
    paused = await world.run(at(3))  # 30 days overdue: the firm reminder waits for the promise
    assert paused.sent == [] and paused.held == {"promise to pay by 2026-11-25": 1}
    resumed = await world.run(at(8))
    assert resumed.sent == [f"firm reminder for {made.numbers[0]} to {made.email}"]
    assert len(resumed.promises_broken) == 1
