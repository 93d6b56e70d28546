"""Abuse limits for the widget socket, in memory and per hub process: token buckets
by key (a connection, a session, an address) and a count of open connections per
address. Memory is bounded: past ``max_keys`` the least recently used key is
forgotten (it starts again with a full bucket)."""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Callable, Dict, Hashable, Tuple


class TokenBuckets:
    """``capacity`` actions at once, refilled at ``per_second``; one bucket per key."""

    def __init__(
        self, capacity: float, per_second: float, clock: Callable[[], float] = time.monotonic, max_keys: int = 100_000
    ) -> None:
        self.capacity, self.per_second, self.clock, self.max_keys = capacity, per_second, clock, max_keys
        self._buckets: "OrderedDict[Hashable, Tuple[float, float]]" = OrderedDict()

    def take(self, key: Hashable) -> bool:
        """Spends one token of ``key``'s bucket; False when it is empty (nothing is spent)."""
        now = self.clock()
        tokens, updated = self._buckets.pop(key, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - updated) * self.per_second)
        allowed = tokens >= 1.0
        self._buckets[key] = (tokens - 1.0 if allowed else tokens, now)
        if len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        return allowed

    def forget(self, key: Hashable) -> None:
        self._buckets.pop(key, None)


class ConnectionCounts:
    """Open connections per address, with a cap."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self._by_address: Dict[str, int] = {}
        self._address_of: Dict[str, str] = {}

    def open(self, connection: str, address: str) -> bool:
        """Counts a new connection; False (and not counted) when the address is at its cap."""
        if self._by_address.get(address, 0) >= self.cap:
            return False
        self._by_address[address] = self._by_address.get(address, 0) + 1
        self._address_of[connection] = address
        return True

    def close(self, connection: str) -> None:
        address = self._address_of.pop(connection, None)
        if address is None:
            return
        left = self._by_address.get(address, 1) - 1
        if left > 0:
            self._by_address[address] = left
        else:
            self._by_address.pop(address, None)

    def address(self, connection: str) -> str:
        return self._address_of.get(connection, "")
