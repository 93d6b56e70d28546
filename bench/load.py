"""Load and latency of the whole product beside a plain `rasa run` (issue 15).

Starts, on loopback ports 7100-7199 only:
- our stack as `bot start` runs it (the action server, our Rasa server with our model, the hub) on a
  fresh scratch database (SQLite by default, `--db postgres` for a scratch PostgreSQL database)
  migrated and seeded with the demo data (`bot db upgrade`, `bot db seed`);
- a plain `rasa run` with the REST channel: a model trained with `rasa init`'s config.yml (Rasa's
  default pipeline and policies) on our NLU data, rules and domain with everything the plain bot
  cannot run stripped (custom components, custom actions, forms, slots: responses only; the list
  is printed and kept beside the model). That training takes about 20 minutes here, so the model
  is cached under var/bench/plain-rasa/<hash of its inputs>/ and reused.

Then for each concurrency (`--customers 1,16,64`, `--seconds 30` each) N simulated customers
hold multi-turn conversations (bench/load_scripts.py), each sending its next message when the
reply has arrived (after `--think` seconds): first over REST against the plain Rasa, then over
socket.io against the hub (Rasa's socketio protocol). On the hub, conversations that go to a
person are taken by an agent client (signed in as a demo agent, console socket + HTTP), who
answers and hands back. Prints one table, the processes' memory, and checks that every customer
message the hub acknowledged is stored.

Faults (`--faults`, one 16-customer run of 30 s each, the fault at 10 s, `--fault-down-seconds`
down): `actions` and `rasa` kill -9 the action server or the Rasa server of the stack above and
start it again. `hub`, `postgres` and `redis` run on a scale-out stack started for them once the
one above is stopped, as README "Scale-out" and tests/e2e/test_scale_out.py set it up: a private
PostgreSQL and a private Redis (tests/private_services.py) on ports of the block, two hubs, two
Rasa servers (shared tracker store and lock store), one action server; customers alternate
between the hubs, the agents sign in on hub 1. `hub` kills -9 hub 2 (its customers reconnect to
hub 1 with the same session, like the widget behind a load balancer) and starts it again;
`postgres` stops the private PostgreSQL (pg_ctl -m fast) and starts it again; `redis` the same
for the private Redis (in memory: it comes back empty). A customer whose message is not
acknowledged sends it again with the same client message id (as bot/hub/static/widget.js does),
counted apart; after reconnecting it asks for the history and counts what it had missed as heard
then. Each run reports bot messages answered on time, late, after the outage notice, not at
all (with the message's stored delivery state and its conversation's status), escalations,
acknowledged messages stored, and, after waiting up to `--settle-seconds`, the delivery state
of every acknowledged message: one still `received` or `waiting_for_bot` is flagged.

    PYTHONPATH=. /work/main/.venv/bin/python bench/load.py --customers 1,16,64 --seconds 30
    ... bench/load.py --profile          # also: py-spy on our Rasa server, hub and action server
    ... bench/load.py --faults           # also: kill -9 the action server during a 16-customer run
    ... bench/load.py --faults actions,rasa   # the action server, then the Rasa server
    ... bench/load.py --faults hub,postgres,redis   # scale-out stack: a hub, PostgreSQL, Redis
    ... bench/load.py --prepare-only     # only build (or find) the plain Rasa model

Every wait has a timeout, every process it starts is stopped at the end (and dies with it),
and a busy port stops it before anything starts.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import signal
import subprocess
import sys
from pathlib import Path
from typing import List, Optional

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.load_agents import AgentDesk  # noqa: E402
from bench.load_faults import CLUSTER_FAULTS, FAULT_TARGETS, faults, scale_out_faults  # noqa: E402
from bench.load_levels import run_level, warm_up  # noqa: E402
from bench.load_plain import plain_model  # noqa: E402
from bench.load_profile import profile  # noqa: E402
from bench.load_report import LevelStats, details, memory_table, stored_check, table, write_problems  # noqa: E402
from bench.load_stack import BENCH_VAR, CLUSTER_PORTS, PORTS, ClusterStack, Stack, sample_memory  # noqa: E402


def machine_load() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return "uptime unavailable"


async def main_async(args: argparse.Namespace) -> int:
    plain = None if args.no_plain else plain_model(args.train_timeout)
    if args.prepare_only:
        print(f"Plain model: {plain}")
        return 0
    run_dir = BENCH_VAR / "runs" / dt.datetime.now().strftime("%Y%m%dT%H%M%S")
    stack = Stack(args, run_dir, plain)
    stack.check_ports()
    names = [n for n in args.faults.split(",") if n] if args.faults else []
    scale_out = [n for n in names if n in CLUSTER_FAULTS]
    if scale_out:
        ClusterStack(args, run_dir).check_ports()
    stacks: List[Stack] = [stack]
    run_dir.mkdir(parents=True, exist_ok=True)
    print(f"Run directory (logs, scratch database): {run_dir}", flush=True)
    desk: Optional[AgentDesk] = None
    own = [0.0]
    sampler: Optional[asyncio.Task] = None
    try:
        await stack.start()
        sampler = asyncio.ensure_future(sample_memory(stack, own))
        desk = AgentDesk(stack.hub_url, args.agent_timeout)
        await desk.start()
        print("Warming up (not timed)...", flush=True)
        if plain:
            await warm_up("plain", stack, args)
        await warm_up("hub", stack, args)
        started_at = dt.datetime.now(dt.timezone.utc)
        load_before = machine_load()
        levels: List[LevelStats] = []
        for number, n in enumerate(args.customers):
            for path in (["plain"] if plain else []) + ["hub"]:
                print(f"  {path}: {n} customer(s) for {args.seconds:.0f} s...", flush=True)
                levels.append(await run_level(path, n, stack, args, seed=number * 2 + (path == "hub")))
                await desk.settle(args.agent_timeout * 3)
                await asyncio.sleep(2)
        load_after = machine_load()
        hub_ids = [i for s in levels if s.path == "hub" for i in s.acked_ids]
        found, acked = stored_check(stack.db_url, hub_ids)
        print()
        print(f"Load and latency, {started_at:%Y-%m-%d %H:%M} UTC, {args.seconds:.0f} s per level, think time "
              f"{args.think:.2f} s (uniform 0.5x-1.5x), database {args.db}")
        print(f"  before: {load_before}\n  after:  {load_after}")
        print()
        print(table(levels))
        print()
        print("msg/s: bot messages answered within the level's seconds, per second; latency: from sending a message "
              "to the last reply of its turn (hub: the last bot_uttered before the next turn's typing; REST: the "
              "response); errors: no reply in time, refused, failed, or the hub's 'couldn't answer'; handoffs: "
              "conversations an agent handed back / conversations that went to the queue")
        print(details(levels))
        print(f"  agents: {dict(desk.counts)}")
        write_problems(stack, levels, "levels")
        print(f"  stored: {found} of the {acked} customer messages the hub acknowledged are in the messages table")
        print()
        print(memory_table(stack, own[0]))
        if args.profile:
            print()
            print("\n".join(await profile(stack, args)))
        for name in [n for n in names if n in FAULT_TARGETS]:
            print()
            print("\n".join(await faults(stack, args, desk, name)), flush=True)
        if scale_out:
            # Its own servers: the levels' stack stops first (two cores, and the memory of a Rasa server).
            sampler.cancel()
            sampler = None
            await desk.stop()
            desk = None
            stack.stop()
            print()
            await scale_out_faults(scale_out, run_dir, args, stacks, own)
        return 0
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        if sampler:
            sampler.cancel()
        if desk:
            await desk.stop()
        for each in stacks:
            each.stop()


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", default="1,16,64", help="concurrency levels, comma-separated (1,16,64)")
    parser.add_argument("--seconds", type=float, default=30.0, help="seconds per level and path (30)")
    parser.add_argument("--think", type=float, default=0.2,
                        help="mean seconds a customer waits after a reply before sending (0.2; 0 for none)")
    parser.add_argument("--reply-timeout", type=float, default=60.0, help="give up on a reply after this long (60)")
    parser.add_argument("--agent-timeout", type=float, default=30.0, help="wait this long for an agent step (30)")
    parser.add_argument("--max-messages", type=int, default=20000, help="at most this many messages per level")
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite",
                        help="the hub's scratch database (sqlite: a file in the run directory; postgres: a new "
                             "database on 127.0.0.1:5432, dropped afterwards)")
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "support.tar.gz", help="our trained model")
    parser.add_argument("--port-base", type=int, default=7100, help="first port of the block (7100)")
    parser.add_argument("--no-plain", action="store_true", help="skip the plain Rasa reference")
    parser.add_argument("--prepare-only", action="store_true", help="only find or train the plain model")
    parser.add_argument("--profile", action="store_true", help="py-spy our Rasa server, hub and action server "
                                                               "during a 1-customer run")
    parser.add_argument("--profile-seconds", type=float, default=30.0)
    parser.add_argument("--faults", nargs="?", const="actions", default="",
                        help="one 16-customer run each, comma-separated (alone: actions): kill -9 and restart "
                             "of the action server (actions) or the Rasa server (rasa); on a scale-out stack "
                             "started for them (two hubs, two Rasa servers, a private PostgreSQL and Redis), "
                             "kill -9 and restart of a hub (hub), a restart of PostgreSQL (postgres) or Redis "
                             "(redis)")
    parser.add_argument("--fault-down-seconds", type=float, default=5.0,
                        help="how long the killed or stopped part stays down (5)")
    parser.add_argument("--settle-seconds", type=float, default=60.0,
                        help="after a fault run, wait at most this long for every acknowledged customer "
                             "message to be answered or with the agents (60)")
    parser.add_argument("--rasa-retry-seconds", type=float, default=5.0,
                        help="BOT_RASA_RETRY_SECONDS for the hub (the product's default, 5)")
    parser.add_argument("--start-timeout", type=float, default=300.0, help="seconds for a server to come up (300)")
    parser.add_argument("--train-timeout", type=float, default=3600.0, help="seconds for the plain training (3600)")
    args = parser.parse_args(argv)
    try:
        args.customers = [int(n) for n in args.customers.split(",") if n.strip()]
    except ValueError:
        parser.error("--customers takes numbers separated by commas, like 1,16,64")
    if not args.customers or min(args.customers) < 1 or max(args.customers) > 500:
        parser.error("--customers: between 1 and 500 each")
    unknown = set(n for n in args.faults.split(",") if n) - set(FAULT_TARGETS) - set(CLUSTER_FAULTS)
    if unknown:
        parser.error(f"--faults: {', '.join(sorted(unknown))}? choose from "
                     f"{', '.join([*FAULT_TARGETS, *CLUSTER_FAULTS])}")
    if not (args.port_base >= 7100 and args.port_base + max([*PORTS.values(), *CLUSTER_PORTS.values()]) <= 7199):
        parser.error("--port-base: the ports must stay within 7100-7199")
    if not 1 <= args.seconds <= 600:
        parser.error("--seconds: between 1 and 600")
    if not args.prepare_only and not args.model.exists():
        parser.error(f"no model at {args.model}: run `python -m bot train` (or link a trained model there)")
    return args


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)

    def stop(signum, frame):  # SIGTERM: unwind through the finally blocks that stop the servers
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
