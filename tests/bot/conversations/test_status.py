"""The conversation status machine."""

import pytest

from bot.conversations.status import InvalidTransition, next_status, sources, target


@pytest.mark.parametrize("status, action, expected", [
    ("bot", "escalate", "pending"),
    ("pending", "take", "assigned"),
    ("assigned", "hand_back", "bot"),
    ("pending", "hand_back", "bot"),
    ("assigned", "resolve", "resolved"),
    ("pending", "resolve", "resolved"),
    ("bot", "resolve", "resolved"),
])
def test_allowed_transitions(status, action, expected):
    assert next_status(status, action) == expected


@pytest.mark.parametrize("status, action", [
    ("assigned", "take"), ("bot", "take"), ("resolved", "take"), ("resolved", "hand_back"),
    ("pending", "escalate"), ("assigned", "escalate"), ("resolved", "resolve"), ("bot", "hand_back"),
])
def test_refused_transitions_say_why(status, action):
    with pytest.raises(InvalidTransition, match=f"that is {status}"):
        next_status(status, action)


def test_sources_are_the_statuses_an_action_starts_from():
    assert set(sources("take")) == {"pending"}
    assert set(sources("resolve")) == {"bot", "pending", "assigned"}
    assert set(sources("hand_back")) == {"pending", "assigned"}


def test_each_action_leads_to_one_status():
    assert [target(a) for a in ("escalate", "take", "hand_back", "resolve")] == ["pending", "assigned", "bot", "resolved"]
