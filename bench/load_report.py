"""What a bench/load.py level measures and how it is reported: each message's timings, a level's
counts, percentiles, the results table and its details, the processes' memory, the customers'
problems, and how many acknowledged messages the hub stored."""

from __future__ import annotations

import os
import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, List, Optional, Sequence, Tuple

from bench.load_stack import Stack, rss_mb


@dataclass
class TurnResult:
    sent: float
    first: Optional[float] = None  # first reply
    last: Optional[float] = None  # last reply of the turn (REST: the response)
    error: Optional[str] = None
    # What the hub said instead of an answer: "no answer" (Rasa said nothing), "outage" (kept for later).
    system: Optional[str] = None
    late: bool = False  # answered after the outage notice (fault runs)
    message_id: Optional[str] = None  # hub: the client message id it was sent with


@dataclass
class LevelStats:
    path: str
    customers: int
    seconds: float
    turns: List[TurnResult] = field(default_factory=list)
    started: float = 0.0
    conversations: int = 0
    handoffs_expected: int = 0
    handoffs: int = 0  # queue notices seen
    handed_back: int = 0
    handoffs_missed: int = 0  # a handoff turn that did not hand over
    agent_waits: List[float] = field(default_factory=list)  # queue notice -> the agent's first words
    held: int = 0  # customer messages to people (not answered by the bot)
    errors: Counter = field(default_factory=Counter)
    acked_ids: List[str] = field(default_factory=list)  # hub: client message ids acknowledged as stored
    empty: int = 0  # REST: replies with no message (the plain bot predicted only action_listen)
    # hub, when a hub goes away: sends with no acknowledgement the first time (sent again with the same id),
    # acknowledged on a later try, of which the hub had stored the first try (acknowledged as a duplicate)
    unacked: int = 0
    unacked_ids: List[str] = field(default_factory=list)
    acked_on_retry: int = 0
    stored_before_ack: int = 0
    reconnects: int = 0
    caught_up: int = 0  # messages heard only in a history (after reconnecting, or pushed by the hub)
    histories_pushed: int = 0  # histories the hub sent unasked (after losing Redis)
    matched_from_history: int = 0  # turns whose answer was heard live but matched to them from a history

    problems: List[str] = field(default_factory=list)

    def error(self, kind: str) -> None:
        self.errors[kind] += 1

    def problem(self, customer: Any, what: str) -> None:
        """Kept for the run directory's problems.log: what the customer had heard."""
        heard = getattr(customer, "heard", [])[-12:]
        self.problems.append(f"{self.path} x{self.customers} session {getattr(customer, 'session_id', '?')}: {what}; "
                             f"last heard: {heard}")

    def answered(self) -> List[TurnResult]:
        return [t for t in self.turns if t.last is not None and t.error is None and t.system != "no answer"]

    def failed(self) -> int:
        """Errors plus bot messages the hub could not answer (Rasa said nothing, or kept and never answered)."""
        unanswered = sum(1 for t in self.turns if t.error is None and (t.last is None or t.system == "no answer"))
        return sum(self.errors.values()) + unanswered

    def rate(self) -> float:
        end = self.started + self.seconds
        return sum(1 for t in self.answered() if t.last <= end) / self.seconds

    def latencies_ms(self) -> List[float]:
        return sorted((t.last - t.sent) * 1000 for t in self.answered())


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, int(round(q / 100 * len(ordered) + 0.5)) - 1))
    return ordered[index]


def stored_check(db_url: str, ids: List[str]) -> Tuple[int, int]:
    """How many of the acknowledged customer messages are in the hub's messages table."""
    import sqlalchemy as sa

    from bot.config import sync_database_url

    engine = sa.create_engine(sync_database_url(db_url))
    found = 0
    try:
        with engine.connect() as connection:
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                query = sa.text("SELECT COUNT(DISTINCT client_message_id) FROM messages WHERE sender = 'customer' "
                                "AND client_message_id IN :ids").bindparams(sa.bindparam("ids", expanding=True))
                found += connection.execute(query, {"ids": chunk}).scalar_one()
    finally:
        engine.dispose()
    return found, len(ids)


def as_ms(value: float) -> str:
    return "-" if value != value else f"{value:,.0f}"


def table(levels: List[LevelStats]) -> str:
    plain = {s.customers: s for s in levels if s.path == "plain"}
    head = ("path", "customers", "answered", "msg/s", "p50 ms", "p95 ms", "p99 ms", "errors", "handoffs", "hub/plain")
    rows = [head]
    for stats in levels:
        lat = stats.latencies_ms()
        errors = stats.failed()
        handoffs = f"{stats.handed_back}/{stats.handoffs}" if stats.path == "hub" else "-"
        ratio = "-"
        if stats.path == "hub" and stats.customers in plain and plain[stats.customers].rate() > 0:
            ratio = f"{stats.rate() / plain[stats.customers].rate():.2f}"
        name = "plain Rasa REST" if stats.path == "plain" else "our hub socket.io"
        rows.append((name, str(stats.customers), str(len(stats.answered())), f"{stats.rate():.2f}",
                     as_ms(percentile(lat, 50)), as_ms(percentile(lat, 95)), as_ms(percentile(lat, 99)), str(errors),
                     handoffs, ratio))
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines = []
    for number, row in enumerate(rows):
        cells = [c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))]
        lines.append("  ".join(cells))
        if number == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def details(levels: List[LevelStats]) -> str:
    lines = []
    for s in levels:
        bits = [f"{s.conversations} conversations", f"{len(s.turns)} bot messages sent"]
        if s.errors:
            bits.append("errors " + ", ".join(f"{k} {v}" for k, v in s.errors.most_common()))
        if s.path == "plain":
            bits.append(f"{s.empty} empty replies")
        else:
            firsts = sorted((t.first - t.sent) * 1000 for t in s.answered() if t.first)
            bits.append(f"first reply p50 {as_ms(percentile(firsts, 50))} ms")
            system = Counter(t.system for t in s.turns if t.system)
            if system:
                bits.append("hub notices " + ", ".join(f"{k} {v}" for k, v in system.items()))
            bits.append(f"{s.handoffs} queue notices, {s.handed_back} handed back, {s.handoffs_missed} handoff "
                        f"turns without a handoff, {s.held} messages to people")
            if s.agent_waits:
                bits.append(f"agent's first words {statistics.median(s.agent_waits) * 1000:,.0f} ms after the queue "
                            "notice (median)")
        lines.append(f"  {s.path} x{s.customers}: " + "; ".join(bits))
    return "\n".join(lines)


def memory_table(stack: Stack, own_peak: float) -> str:
    lines = ["process              pid      RSS now   peak RSS"]
    for proc in stack.procs.values():
        mb = rss_mb(proc.pid) if proc.alive() else None
        now_mb = f"{mb:,.0f} MB" if mb is not None else "exited"
        lines.append(f"{proc.name:<20} {proc.pid:<8} {now_mb:>8}  {proc.peak_mb:>7,.0f} MB")
    mine = rss_mb(os.getpid()) or 0.0
    lines.append(f"{'load generator':<20} {os.getpid():<8} {mine:>5,.0f} MB  {max(own_peak, mine):>7,.0f} MB")
    return "\n".join(lines)


def write_problems(stack: Stack, levels: List[LevelStats], title: str) -> None:
    problems = [p for s in levels for p in s.problems]
    if problems:
        with open(stack.run_dir / "problems.log", "a") as log:
            log.write(f"== {title}\n" + "\n".join(problems) + "\n")
        print(f"  ({len(problems)} customers' problems, with what they last heard: {stack.run_dir / 'problems.log'})")
