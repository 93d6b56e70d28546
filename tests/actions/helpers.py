"""Building trackers and reading what the actions said, for the action tests."""

from __future__ import annotations

import copy
import functools
from typing import Any, Dict, List, NamedTuple, Optional

import pytest
import yaml
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.config import PROJECT_ROOT, get_settings
from bot.db import dispose_engines, session_scope
from bot.accounts import queries
from bot.accounts.views import CustomerView
from tests.conftest import use_settings

# Importing the action modules registers every account answer (as the action
# server does when it loads the package), whichever test module runs first.
import actions.account  # noqa: F401,E402
import actions.payments  # noqa: F401,E402
import actions.reminders  # noqa: F401,E402

SENDER_ID = "test-conversation"
UNREACHABLE_DATABASE = "postgresql+asyncpg://nobody@127.0.0.1:1/none"

# Keys every CollectingDispatcher message has; anything else is a response value.
_MESSAGE_KEYS = {"text", "buttons", "elements", "custom", "template", "response", "image", "attachment"}


@pytest.fixture
async def database_down(monkeypatch):
    """The bot's database points at a server that refuses connections."""
    use_settings(monkeypatch, database_url=UNREACHABLE_DATABASE)
    yield UNREACHABLE_DATABASE
    await dispose_engines()
    get_settings.cache_clear()


@functools.lru_cache(maxsize=1)
def _domain() -> Dict[str, Any]:
    return yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text())


def load_domain() -> Dict[str, Any]:
    """domain.yml as a dict (what the action server receives as ``domain``); a fresh copy."""
    return copy.deepcopy(_domain())


def domain_slot_defaults() -> Dict[str, Any]:
    """Every slot in domain.yml with its initial value (None when it has none)."""
    return {name: spec.get("initial_value") for name, spec in (_domain().get("slots") or {}).items()}


def user_event(intent: Optional[str], text: str = "", negative: float = 0.0, **parse_data: Any) -> Dict[str, Any]:
    """A serialised UserUttered event as Rasa sends it to the action server."""
    parse = {
        "intent": {"name": intent, "confidence": 0.99} if intent else {},
        "entities": [],
        "text": text,
        "sentiment": {"label": "negative" if negative >= 0.5 else "neutral",
                      "scores": {"negative": negative}},
        **parse_data,
    }
    return {"event": "user", "timestamp": None, "text": text, "parse_data": parse}


def bot_event(text: str) -> Dict[str, Any]:
    return {"event": "bot", "timestamp": None, "text": text, "data": {}}


def make_tracker(
    slots: Optional[Dict[str, Any]] = None,
    events: Optional[List[Dict[str, Any]]] = None,
    latest_message: Optional[Dict[str, Any]] = None,
    active_loop: Optional[Dict[str, Any]] = None,
    latest_action_name: Optional[str] = None,
    sender_id: str = SENDER_ID,
) -> Tracker:
    """A Tracker with every domain slot at its initial value, overridden by ``slots``.

    Without ``latest_message``, the parse data of the last user event is used.
    """
    unknown = set(slots or {}) - set(domain_slot_defaults()) - {"requested_slot"}
    assert not unknown, f"not domain slots: {unknown}"
    all_slots = {**domain_slot_defaults(), "requested_slot": None, **(slots or {})}
    events = list(events or [])
    if latest_message is None:
        users = [e for e in events if e.get("event") == "user"]
        latest_message = users[-1]["parse_data"] if users else {"intent": {}, "entities": [], "text": None}
    return Tracker(
        sender_id,
        all_slots,
        latest_message,
        events,
        False,
        None,
        active_loop or {},
        latest_action_name,
    )


def verified_slots(customer: CustomerView, **more: Any) -> Dict[str, Any]:
    """Slots as they are after the customer passed verification."""
    return {"verified": True, "customer_id": str(customer.id), "customer_name": customer.first_name,
            "identifier": customer.account_number, "secret": "provided", **more}


async def customer(identifier: str) -> CustomerView:
    async with session_scope() as session:
        found = await queries.find_customer(session, identifier)
    assert found is not None, identifier
    return found


def responses(dispatcher: CollectingDispatcher) -> List[Dict[str, Any]]:
    """Each templated message as {"response": name, **values passed to it}."""
    return [
        {"response": m["response"], **{k: v for k, v in m.items() if k not in _MESSAGE_KEYS}}
        for m in dispatcher.messages
        if m.get("response")
    ]


def response_names(dispatcher: CollectingDispatcher) -> List[str]:
    return [m["response"] for m in dispatcher.messages if m.get("response")]


def json_messages(dispatcher: CollectingDispatcher) -> List[Dict[str, Any]]:
    """The custom (json_message) payloads sent, in order."""
    return [m["custom"] for m in dispatcher.messages if m.get("custom")]


class Ran(NamedTuple):
    """What running an action produced."""

    events: List[Dict[str, Any]]
    said: List[Dict[str, Any]]  # responses(dispatcher)
    json: List[Dict[str, Any]]  # json_messages(dispatcher)


async def run_action(action: Action, **tracker_args: Any) -> Ran:
    """Runs ``action`` on make_tracker(**tracker_args), as the action server would."""
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, make_tracker(**tracker_args), domain={})
    return Ran(events, responses(dispatcher), json_messages(dispatcher))
