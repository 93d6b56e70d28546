"""bench/load.py --faults: a 16-customer run with a part of the stack broken a third of the way in
(kill -9 of the action server or the Rasa server; on the scale-out stack, kill -9 of a hub or a restart
of PostgreSQL or Redis), and what became of every message: answered on time, late, not at all, and
its stored delivery state once things settle."""

from __future__ import annotations

import argparse
import asyncio
from collections import Counter
from pathlib import Path
from typing import Dict, List, Tuple

from bench.load_agents import AgentDesk
from bench.load_levels import run_level, warm_up
from bench.load_report import TurnResult, memory_table, percentile, stored_check, write_problems
from bench.load_stack import ClusterStack, Stack, now, sample_memory

FAULT_TARGETS = {"actions": "action server", "rasa": "Rasa server"}
CLUSTER_FAULTS = {"hub": "hub 2", "postgres": "PostgreSQL", "redis": "Redis"}
UNFINISHED = ("received", "waiting_for_bot")  # a customer message neither answered nor held for the agents
STATUS_WORDS = {"bot": "with the bot", "pending": "in the agents' queue", "assigned": "with an agent",
                "resolved": "resolved"}


def delivery_states(db_url: str, ids: List[str]) -> Dict[str, Tuple[str, str]]:
    """Client message id -> (its delivery state, its conversation's status), for stored customer messages."""
    import sqlalchemy as sa

    from bot.config import sync_database_url

    engine = sa.create_engine(sync_database_url(db_url))
    states: Dict[str, Tuple[str, str]] = {}
    try:
        with engine.connect() as connection:
            for start in range(0, len(ids), 500):
                query = sa.text(
                    "SELECT m.client_message_id, m.delivery, c.status FROM messages m JOIN conversations c "
                    "ON c.id = m.conversation_id WHERE m.sender = 'customer' AND m.client_message_id IN :ids"
                ).bindparams(sa.bindparam("ids", expanding=True))
                for client_id, delivery, status in connection.execute(query, {"ids": ids[start:start + 500]}):
                    states[client_id] = (delivery, status)
    finally:
        engine.dispose()
    return states


async def settled_states(db_url: str, ids: List[str], timeout: float) -> Tuple[Dict[str, Tuple[str, str]], float]:
    """The acknowledged messages' states once none is unfinished (or at the timeout), and how long that took."""
    started = now()
    while True:
        states = await asyncio.to_thread(delivery_states, db_url, ids)
        if not any(delivery in UNFINISHED for delivery, _ in states.values()) or now() - started >= timeout:
            return states, now() - started
        await asyncio.sleep(2)


async def _break(stack: Stack, args: argparse.Namespace, name: str, marks: Dict[str, float]) -> None:
    """The fault: down (kill -9, or a stop), `--fault-down-seconds`, up again (healthy, or accepting)."""
    marks["broken"] = now()
    if name in FAULT_TARGETS or name == "hub":
        target = FAULT_TARGETS.get(name) or CLUSTER_FAULTS[name]
        stack.procs[target].kill9()
        await asyncio.sleep(args.fault_down_seconds)
        await stack.restart(target, args.start_timeout)
    else:
        assert isinstance(stack, ClusterStack) and stack.postgres is not None and stack.redis is not None
        service = stack.postgres if name == "postgres" else stack.redis
        await asyncio.to_thread(service.stop)
        await asyncio.sleep(args.fault_down_seconds)
        await asyncio.to_thread(service.start)
    marks["back"] = now()


def _what_broke(stack: Stack, name: str, at: float, args: argparse.Namespace, down: float) -> str:
    after = f"{args.fault_down_seconds:.0f} s later"
    if name in FAULT_TARGETS:
        return (f"kill -9 of the {FAULT_TARGETS[name]} at {at:.0f} s, restarted {after}, healthy again "
                f"{down:.1f} s after the kill")
    shape = "two hubs (8 customers on each at first, the agents on hub 1), two Rasa servers, one action server"
    if name == "hub":
        return (f"{shape}; kill -9 of hub 2 at {at:.0f} s, its customers reconnect to hub 1; hub 2 restarted "
                f"{after}, healthy again {down:.1f} s after the kill")
    how = "pg_ctl stop -m fast" if name == "postgres" else "SIGTERM, in memory only: everything in it lost"
    return (f"{shape}; the private {CLUSTER_FAULTS[name]} stopped ({how}) at {at:.0f} s, started {after}, "
            f"up again {down:.1f} s after the stop")


def _no_reply_kinds(turns: List[TurnResult], states: Dict[str, Tuple[str, str]]) -> str:
    kinds: Counter = Counter()
    for turn in turns:
        state = states.get(turn.message_id or "")
        if state is None:
            kinds["never stored (no acknowledgement)"] += 1
        else:
            delivery, status = state
            notice = ", after the outage notice" if turn.system == "outage" else ""
            heard = " (its answer stored, never heard)" if delivery == "answered" else ""
            kinds[f"stored as {delivery}{heard}, conversation {STATUS_WORDS.get(status, status)}{notice}"] += 1
    return ", ".join(f"{count} {kind}" for kind, count in kinds.most_common()) or "none"


async def faults(stack: Stack, args: argparse.Namespace, desk: AgentDesk, name: str) -> List[str]:
    seconds = max(args.seconds, 30.0)
    marks: Dict[str, float] = {}

    async def fault(started: float) -> None:
        await asyncio.sleep(seconds / 3)
        await _break(stack, args, name, marks)

    agents_before = Counter(desk.counts)
    stats = await run_level("hub", 16, stack, args, seed=77, seconds=seconds, during=fault)
    await desk.settle(args.agent_timeout * 3)
    write_problems(stack, [stats], f"faults: {name}")
    ok = [t for t in stats.turns if t.error is None and t.last is not None and t.system is None]
    p50 = percentile([(t.last - t.sent) for t in ok if t.sent < marks.get("broken", 1e18)], 50)
    late_limit = max(5 * p50, 2.0) if p50 == p50 else 2.0
    late = [t for t in ok if t.late or (t.last - t.sent) > late_limit]
    no_answer = [t for t in stats.turns if t.system == "no answer"]
    outage = [t for t in stats.turns if t.system == "outage"]
    # Rasa silent twice in a row: a person takes over, the turn's only reply is the queue notice.
    to_person = [t for t in stats.turns if t.error is None and t.last is None and t.first is not None
                 and t.system is None]
    unanswered = [t for t in stats.turns if (t.error is not None or t.last is None) and t not in to_person]
    found, acked = stored_check(stack.db_url, stats.acked_ids)
    states, waited = await settled_states(stack.db_url, stats.acked_ids, args.settle_seconds)
    deliveries = Counter(delivery for delivery, _ in states.values())
    unfinished = sum(deliveries[d] for d in UNFINISHED)
    down = marks.get("back", now()) - marks.get("broken", now())
    lines = [
        f"Faults: {name} (16 customers, {seconds:.0f} s; {_what_broke(stack, name, seconds / 3, args, down)}):",
        f"  bot messages sent {len(stats.turns)}: answered {len(ok) - len(late)} on time, {len(late)} late "
        f"(> {late_limit:.1f} s or after an outage notice), {len(no_answer)} got the hub's \"couldn't answer\" "
        f"(Rasa said nothing: the action call failed), {len(outage)} got the outage notice (kept, answered later), "
        f"{len(to_person)} got only the queue notice (handed to a person), "
        f"{len(unanswered)} failed (no reply in {args.reply_timeout:.0f} s or refused)",
        f"  no reply: {_no_reply_kinds(unanswered, states)}",
        f"  escalated: {stats.handoffs} conversations went to a person ({stats.handoffs_expected} handoff turns "
        f"in the scripts, {stats.handoffs_missed} of them without a handoff), {stats.handed_back} handed back",
        f"  sends not acknowledged the first time: {stats.unacked} (sent again with the same client message id: "
        f"{stats.acked_on_retry} acknowledged then, {stats.stored_before_ack} of them already stored by the first "
        f"try); {stats.reconnects} reconnects, {stats.histories_pushed} histories sent by a hub unasked, "
        f"{stats.caught_up} messages heard only in a history, {stats.matched_from_history} answers matched to "
        "their turn by one",
        f"  stored: {found} of the {acked} customer messages the hub acknowledged are in the messages table"
        + ("" if found == acked else "  <-- MISSING MESSAGES"),
        f"  their delivery {waited:.0f} s after the run: "
        + (", ".join(f"{d} {n}" for d, n in deliveries.most_common()) or "none")
        + ("" if not unfinished else f"  <-- {unfinished} NEITHER ANSWERED NOR WITH THE AGENTS"),
        "  errors: " + (", ".join(f"{k} {v}" for k, v in stats.errors.most_common()) or "none"),
        f"  agents: {dict(desk.counts - agents_before)}",
    ]
    return lines


async def scale_out_faults(names: List[str], run_dir: Path, args: argparse.Namespace,
                           stacks: List[Stack], own: List[float]) -> None:
    """The faults that need two hubs, a PostgreSQL and a Redis of their own, on a stack started for them."""
    cluster = ClusterStack(args, run_dir)
    stacks.append(cluster)
    await cluster.start()
    sampler = asyncio.ensure_future(sample_memory(cluster, own))
    desk = AgentDesk(cluster.hub_url, args.agent_timeout)
    try:
        await desk.start()
        print("Warming up the scale-out stack (not timed)...", flush=True)
        for hub in (0, 1, 0, 1):  # conversations on both hubs, and (by their ids) both Rasa servers
            await warm_up("hub", cluster, args, hub)
        for name in names:
            print(flush=True)
            print("\n".join(await faults(cluster, args, desk, name)), flush=True)
        print()
        print(memory_table(cluster, own[0]))
    finally:
        sampler.cancel()
        await desk.stop()
