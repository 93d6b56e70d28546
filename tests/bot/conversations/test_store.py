"""Storing messages: a re-sent customer message is found again, any other refused insert is an error."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.exc import IntegrityError

from bot.conversations import store
from bot.db import session_scope

NOW = dt.datetime(2026, 11, 18, 12, tzinfo=dt.timezone.utc)


async def test_a_resent_customer_message_is_stored_once(any_db):
    async with session_scope() as session:
        conversation = await store.create_conversation(session, "web", "store-1", NOW)
        first, new = await store.add_message(session, conversation, "customer", "hi", "received", NOW,
                                             client_message_id="c-1")
        again, new_again = await store.add_message(session, conversation, "customer", "hi", "received", NOW,
                                                   client_message_id="c-1")
    assert (new, new_again) == (True, False)
    assert again.id == first.id


async def test_a_refused_message_without_client_id_is_an_error_not_another_message(any_db):
    async with session_scope() as session:
        conversation = await store.create_conversation(session, "web", "store-2", NOW)
        await store.add_message(session, conversation, "bot", "Hello!", "sent", NOW)  # no client id either
        with pytest.raises(IntegrityError):
            await store.add_message(session, conversation, "robot", "?", "sent", NOW)  # refused by the sender check
