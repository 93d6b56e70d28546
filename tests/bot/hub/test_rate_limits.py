"""Token buckets and connection counts, on a clock the test moves."""

from __future__ import annotations

from bot.hub.rate_limits import ConnectionCounts, TokenBuckets


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_then_the_refill_rate():
    clock = Clock()
    buckets = TokenBuckets(capacity=3, per_second=0.5, clock=clock)
    assert [buckets.take("a") for _ in range(4)] == [True, True, True, False]
    assert buckets.take("b") is True  # keys are independent
    clock.now = 1.0  # half a token: still refused, and the refusal costs nothing
    assert buckets.take("a") is False
    clock.now = 2.0
    assert buckets.take("a") is True
    assert buckets.take("a") is False
    clock.now = 100.0  # never more than the capacity
    assert [buckets.take("a") for _ in range(4)] == [True, True, True, False]


def test_memory_is_bounded_by_forgetting_the_least_recent_key():
    buckets = TokenBuckets(capacity=1, per_second=0.001, clock=Clock(), max_keys=2)
    assert buckets.take("a") and buckets.take("b") and buckets.take("c")
    assert buckets.take("a") is True  # forgotten, so full again
    assert buckets.take("c") is False


def test_connections_per_address_are_capped_and_freed():
    counts = ConnectionCounts(cap=2)
    assert counts.open("s1", "10.0.0.1") and counts.open("s2", "10.0.0.1")
    assert counts.open("s3", "10.0.0.1") is False
    assert counts.open("s4", "10.0.0.2") is True
    assert counts.address("s1") == "10.0.0.1"
    counts.close("s1")
    counts.close("s1")  # closing twice frees one place only
    assert counts.open("s5", "10.0.0.1") is True
    assert counts.open("s6", "10.0.0.1") is False
