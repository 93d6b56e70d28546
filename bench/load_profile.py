"""bench/load.py --profile: py-spy on our Rasa server, hub and action server during a 1-customer run,
the CPU per message split by what it was spent on, and what Rasa's JSON-schema check costs."""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import subprocess
from collections import Counter
from pathlib import Path
from typing import Callable, List, Tuple

import aiohttp

from bench.load_levels import run_level
from bench.load_report import as_ms, percentile
from bench.load_stack import BENCH_VAR, Stack, die_with_parent, now

PROFILER_VENV = BENCH_VAR / "venv-prof"
PY_SPY_VERSION = "0.4.3"


RASA_SPLIT: List[Tuple[str, Callable[[List[str]], bool]]] = [
    ("action call: JSON-schema check of the response (RemoteAction._validate_action_result)",
     lambda s: any(f.startswith("_validate_action_result ") for f in s)),
    # Stacks py-spy cut short inside jsonschema's recursion (no Rasa frame left): the same check, nearly all.
    ("JSON-schema, stack cut short (the check above, or the events API's)",
     lambda s: any("jsonschema/" in f for f in s) and not any("rasa/" in f for f in s)),
    ("JSON-schema check of events sent to the HTTP API (the hub's pause/resume)",
     lambda s: any("jsonschema/" in f for f in s) and any(f.startswith("validate_events_in_request_body ") for f in s)),
    ("action call: the rest (HTTP to the action server, events)",
     lambda s: any(f.startswith("_run_action ") for f in s)),
    ("tracker store (SQL)", lambda s: any("rasa/core/tracker_store.py" in f for f in s)),
    ("NLU pipeline (parse_message)", lambda s: any(f.startswith("parse_message ") for f in s)),
    ("policies (predict next action)", lambda s: any("_predict_next_with_tracker " in f or
                                                     f.startswith("predict_next_with_tracker") for f in s)),
]
HUB_SPLIT: List[Tuple[str, Callable[[List[str]], bool]]] = [
    ("database (SQLAlchemy, aiosqlite/asyncpg, sqlite3)",
     lambda s: any(k in f for f in s for k in ("sqlalchemy/", "aiosqlite/", "asyncpg/", "sqlite3/"))),
    ("socket.io / engine.io", lambda s: any("socketio/" in f or "engineio/" in f for f in s)),
    ("HTTP client to Rasa (aiohttp client)", lambda s: any("rasa_client.py" in f for f in s)),
]
ACTION_SPLIT: List[Tuple[str, Callable[[List[str]], bool]]] = [
    ("verification secret hashing (PBKDF2)", lambda s: any(f.startswith("_digest ") for f in s)),
    ("database (SQLAlchemy, aiosqlite/asyncpg)",
     lambda s: any(k in f for f in s for k in ("sqlalchemy/", "aiosqlite/", "asyncpg/", "sqlite3/"))),
]


async def rasa_seconds(stack: Stack) -> Tuple[float, float]:
    """The hub's bot_hub_rasa_seconds histogram: (sum, count) so far, from /metrics (loopback needs no token)."""
    total = count = 0.0
    try:
        async with aiohttp.ClientSession() as http, http.get(f"{stack.hub_url}/metrics",
                                                             timeout=aiohttp.ClientTimeout(total=10)) as response:
            text = await response.text()
    except (aiohttp.ClientError, asyncio.TimeoutError):
        return total, count
    for line in text.splitlines():
        if line.startswith("bot_hub_rasa_seconds_sum"):
            total = float(line.split()[-1])
        elif line.startswith("bot_hub_rasa_seconds_count"):
            count = float(line.split()[-1])
    return total, count


def py_spy() -> Path:
    exe = PROFILER_VENV / "bin" / "py-spy"
    if not exe.exists():
        print(f"Installing py-spy {PY_SPY_VERSION} into {PROFILER_VENV} (not into the product's venv)...", flush=True)
        subprocess.run(["python3", "-m", "venv", str(PROFILER_VENV)], check=True, timeout=300)
        subprocess.run([str(PROFILER_VENV / "bin" / "pip"), "install", "-q", f"py-spy=={PY_SPY_VERSION}"],
                       check=True, timeout=600)
    return exe


# Threads blocked in C called straight from these frames count as active in py-spy's samples: an event
# loop waiting in uvloop (Sanic's serve), an idle thread-pool worker, aiosqlite's thread waiting for work.
IDLE_LEAVES = (
    re.compile(r"^serve \(sanic/server/runners\.py:\d+\)$"),
    re.compile(r"^_worker \(concurrent/futures/thread\.py:\d+\)$"),
)
AIOSQLITE_LEAF = re.compile(r"^_connection_worker_thread \((aiosqlite/core\.py):(\d+)\)$")


def _idle(leaf: str) -> bool:
    if any(p.match(leaf) for p in IDLE_LEAVES):
        return True
    found = AIOSQLITE_LEAF.match(leaf)
    if found:  # waiting in tx.get() is idle; running the queued call is database work
        import linecache

        import aiosqlite

        source = Path(aiosqlite.__file__).parent / "core.py"
        return ".get(" in linecache.getline(str(source), int(found.group(2)))
    return not leaf.strip()


def read_stacks(path: Path) -> Tuple[List[Tuple[List[str], int]], int]:
    """py-spy's raw (collapsed) stacks without the idle ones, and how many samples were idle."""
    stacks, idle = [], 0
    for line in path.read_text(errors="replace").splitlines():
        frames, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        names = frames.split(";")
        if _idle(names[-1]):
            idle += int(count)
        else:
            stacks.append((names, int(count)))
    return stacks, idle


def split(stacks: List[Tuple[List[str], int]], idle: int, rules, rate: int, messages: int) -> List[str]:
    per = 1000.0 / rate / max(1, messages)  # ms per message per sample
    total = sum(c for _, c in stacks)
    buckets: Counter = Counter()
    selfs: Counter = Counter()
    for frames, count in stacks:
        label = next((name for name, match in rules if match(frames)), "everything else")
        buckets[label] += count
        leaf = re.sub(r"\s*\(([^)]*?):\d+\)$", r" (\1)", frames[-1]) if frames else "?"
        selfs[leaf] += count
    lines = [f"    CPU per message: {total * per:.1f} ms ({total} samples at {rate} Hz over {messages} messages; "
             f"{idle} samples of threads waiting left out)"]
    for name, _ in rules + [("everything else", None)]:
        if buckets[name]:
            lines.append(f"      {buckets[name] * per:6.1f} ms  {100 * buckets[name] / total:4.0f}%  {name}")
    lines.append("    top self time (the function on top of the stack):")
    for name, count in selfs.most_common(8):
        lines.append(f"      {count * per:6.1f} ms  {100 * count / total:4.0f}%  {name[:110]}")
    return lines


def schema_check(repeat: int = 50) -> str:
    """What Rasa 3.6's RemoteAction._validate_action_result costs for one action response, and what the
    same check costs with the validator built once (jsonschema.validate checks the schema and builds a
    validator on every call)."""
    import jsonschema
    from rasa.shared.utils.schemas.events import EVENTS_SCHEMA

    # RemoteAction.action_response_format_spec() (rasa/core/actions/action.py), without importing TensorFlow.
    spec = {"type": "object", "properties": {"events": EVENTS_SCHEMA,
                                             "responses": {"type": "array", "items": {"type": "object"}}}}
    response = {
        "events": [{"event": "slot", "name": "verified", "value": True, "timestamp": None},
                   {"event": "slot", "name": "customer_id", "value": "5", "timestamp": None},
                   {"event": "active_loop", "name": None, "timestamp": None}],
        "responses": [{"text": "Thanks, Li, you're verified.", "buttons": [], "elements": [], "custom": {},
                       "template": None, "response": None, "image": None, "attachment": None}],
    }
    jsonschema.validate(response, spec)
    started = now()
    for _ in range(repeat):
        jsonschema.validate(response, spec)
    each = (now() - started) / repeat
    validator = jsonschema.validators.validator_for(spec)(spec)
    started = now()
    for _ in range(repeat):
        validator.validate(response)
    cached = (now() - started) / repeat
    return (f"  JSON-schema check of one action response in this process: {each * 1000:.1f} ms as Rasa 3.6 calls it "
            f"(jsonschema.validate), {cached * 1000:.2f} ms with the validator built once")


async def profile(stack: Stack, args: argparse.Namespace) -> List[str]:
    exe = py_spy()
    rate = 250
    targets = [("Rasa server", RASA_SPLIT), ("hub", HUB_SPLIT), ("action server", ACTION_SPLIT)]
    recorders = []
    for name, _ in targets:
        out = stack.run_dir / f"profile-{name.replace(' ', '-')}.txt"
        command = [str(exe), "record", "--pid", str(stack.procs[name].pid), "--rate", str(rate), "--format", "raw",
                   "--nonblocking", "--duration", str(int(args.profile_seconds) + 2), "--output", str(out)]
        recorders.append((name, out, subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                                       preexec_fn=die_with_parent)))
    try:
        await asyncio.sleep(1)
        rasa_before = await rasa_seconds(stack)
        stats = await run_level("hub", 1, stack, args, seed=99, seconds=args.profile_seconds)
        rasa_after = await rasa_seconds(stack)
    finally:
        for _name, _out, recorder in recorders:
            try:
                recorder.wait(args.profile_seconds + 60)
            except subprocess.TimeoutExpired:
                recorder.kill()
                recorder.wait(10)
    messages = len(stats.answered())
    lat = stats.latencies_ms()
    lines = [f"Profile (py-spy {PY_SPY_VERSION}, {rate} Hz, CPU samples only, 1 customer for "
             f"{args.profile_seconds:.0f} s, {messages} bot messages, hub p50 {as_ms(percentile(lat, 50))} ms):"]
    calls = rasa_after[1] - rasa_before[1]
    if calls > 0 and lat:
        rasa_ms = (rasa_after[0] - rasa_before[0]) / calls * 1000
        mean = statistics.mean(lat)
        lines.append(f"  wall time per message: {mean:.0f} ms from the customer's send to the last reply (mean), of "
                     f"which Rasa {rasa_ms:.0f} ms (the hub's bot_hub_rasa_seconds, {calls:.0f} calls): the hub's own "
                     f"share {mean - rasa_ms:.0f} ms")
    for (name, rules), (_, out, recorder) in zip(targets, recorders, strict=True):
        if not out.exists():
            err = recorder.stderr.read().decode(errors="replace").strip() if recorder.stderr else ""
            lines.append(f"  {name}: py-spy wrote nothing ({err[:300]})")
            continue
        lines.append(f"  {name}:")
        lines += split(*read_stacks(out), rules, rate, messages)
    lines.append(schema_check())
    return lines
