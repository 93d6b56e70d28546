"""What the Rasa server changes in Rasa 3.6, each for a reason measured or seen in a test.

- The action server's response is validated by a validator built once (Rasa builds one and
  checks the schema on every action call).
- The SQL tracker store's connections are checked before use (``pool_pre_ping``), so a
  PostgreSQL restart costs nothing instead of failing the next turn on a dead connection.
- A tracker store error fails the turn instead of Rasa's silent fallback to an empty in-memory
  tracker, which answered the customer as if the conversation had just begun (and saved that);
  the hub channel answers 500 and the hub keeps the message and retries it
  (tests/e2e/test_scale_out.py restarts PostgreSQL).
"""

from __future__ import annotations

from typing import Any, Dict


def apply() -> None:
    build_action_response_validator_once()
    check_tracker_store_connections()
    fail_turns_on_tracker_store_errors()


def build_action_response_validator_once() -> None:
    """Rasa 3.6 validates every action server response with ``jsonschema.validate``, which checks
    the (never changing) schema and builds a validator each time: 15 to 26 ms of a 57 ms turn, measured
    with py-spy (bench/README.md). The same check, with the validator built once."""
    from jsonschema import exceptions, validators
    from rasa.core.actions.action import RemoteAction

    if getattr(RemoteAction._validate_action_result, "built_once", False):
        return
    schema = RemoteAction.action_response_format_spec()
    validator_class = validators.validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema)
    original = RemoteAction._validate_action_result

    def validate_action_result(self: RemoteAction, result: Dict[str, Any]) -> bool:
        if exceptions.best_match(validator.iter_errors(result)) is None:
            return True
        return original(self, result)  # Rasa's own error, message and all

    validate_action_result.built_once = True  # type: ignore[attr-defined]
    RemoteAction._validate_action_result = validate_action_result


def check_tracker_store_connections() -> None:
    from rasa.core import tracker_store

    create_engine_kwargs = tracker_store.create_engine_kwargs
    if getattr(create_engine_kwargs, "pre_ping", False):
        return

    def with_pre_ping(url: Any) -> Dict[str, Any]:
        return {**create_engine_kwargs(url), "pool_pre_ping": True}

    with_pre_ping.pre_ping = True  # type: ignore[attr-defined]
    tracker_store.create_engine_kwargs = with_pre_ping


def fail_turns_on_tracker_store_errors() -> None:
    from rasa.core.tracker_store import FailSafeTrackerStore

    def reraise(self: FailSafeTrackerStore, error: Exception) -> None:
        raise error  # called inside Rasa's except block: the turn fails with the store's error

    FailSafeTrackerStore.on_tracker_store_error = reraise
    FailSafeTrackerStore.on_tracker_store_retrieve_error = reraise
