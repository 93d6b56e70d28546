"""What the Rasa server changes in Rasa 3.6 (bot.internal.rasa_patches)."""

from __future__ import annotations

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction
from rasa.core.tracker_store import FailSafeTrackerStore, InMemoryTrackerStore
from rasa.shared.core.domain import Domain

from bot.internal import rasa_patches


@pytest.fixture(scope="module", autouse=True)
def patched():
    rasa_patches.apply()
    rasa_patches.apply()  # twice is harmless


def test_action_responses_are_validated_by_a_validator_built_once():
    validate = RemoteAction._validate_action_result
    assert validate.built_once
    action = RemoteAction("action_check_balance", None)
    good = {"events": [{"event": "slot", "name": "verified", "value": True}], "responses": [{"text": "Hi"}]}
    assert validate(action, good) is True
    for bad in ({"events": [{"event": "no_such_event"}]}, {"responses": "not a list"}, {"events": {}}):
        with pytest.raises(jsonschema.ValidationError, match="Failed to validate Action server response"):
            validate(action, bad)


def test_the_sql_tracker_store_checks_its_connections_before_use():
    from rasa.core import tracker_store

    kwargs = tracker_store.create_engine_kwargs("postgresql://rasa@127.0.0.1:5432/rasa")
    assert kwargs["pool_pre_ping"] is True
    assert "pool_size" in kwargs  # Rasa's own options are kept


class BrokenStore(InMemoryTrackerStore):
    async def retrieve(self, sender_id):
        raise ConnectionError("server closed the connection unexpectedly")

    async def retrieve_full_tracker(self, sender_id):
        raise ConnectionError("server closed the connection unexpectedly")

    async def save(self, tracker):
        raise ConnectionError("server closed the connection unexpectedly")


async def test_a_tracker_store_error_fails_the_turn_instead_of_starting_an_empty_conversation():
    store = FailSafeTrackerStore(BrokenStore(Domain.empty()))
    # Unpatched, Rasa logs the error and returns None: a new, empty tracker for the customer.
    with pytest.raises(ConnectionError):
        await store.retrieve("customer-1")
    with pytest.raises(ConnectionError):
        await store.retrieve_full_tracker("customer-1")
    with pytest.raises(ConnectionError):
        await store.save(await InMemoryTrackerStore(Domain.empty()).get_or_create_tracker("customer-1"))
