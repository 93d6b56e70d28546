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
import contextlib
import ctypes
import datetime as dt
import fcntl
import hashlib
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
import zlib
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Deque, Dict, List, Optional, Sequence, Tuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import socketio  # noqa: E402
import yaml  # noqa: E402

from bench import load_scripts  # noqa: E402
from bot.demo.agents import DEMO_AGENTS  # noqa: E402
from bot.hub import notices  # noqa: E402

PYTHON = sys.executable
BENCH_VAR = ROOT / "var" / "bench"
PLAIN_CACHE = BENCH_VAR / "plain-rasa"
PROFILER_VENV = BENCH_VAR / "venv-prof"
PY_SPY_VERSION = "0.4.3"
# Port offsets inside the 7100-7199 block given to this benchmark.
PORTS = {"rasa": 5, "plain": 6, "action": 55, "hub": 80}
POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
AGENT_PASSWORD = "northwind-demo"  # what `bot db seed` gives the demo agents (BOT_DEMO_AGENT_PASSWORD)


def now() -> float:
    return time.perf_counter()


# --------------------------------------------------------------------------------------------
# The plain Rasa reference: rasa init's config on our data, responses only, cached by input hash
# --------------------------------------------------------------------------------------------

def _rasa_package() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("rasa")
    if spec is None or spec.origin is None:
        raise SystemExit("rasa is not installed in this Python; run with /work/main/.venv/bin/python")
    return Path(spec.origin).parent


def _is_response(action: str) -> bool:
    return action.startswith("utter_")


def _strip_rule(rule: Dict[str, Any], removed: List[str]) -> Optional[Dict[str, Any]]:
    """The rule up to its first step the plain bot can't run (a custom action, a form, a slot or
    loop event), without conditions on slots; None when nothing of it answers with a response."""
    name = rule.get("rule", "?")
    if rule.get("wait_for_user_input") is False:
        removed.append(f"rule '{name}': continues a form (wait_for_user_input: false)")
        return None
    kept: List[Dict[str, Any]] = []
    for step in rule.get("steps", []):
        if "intent" in step or "or" in step or ("action" in step and _is_response(step["action"])):
            kept.append(step)
        else:
            what = step.get("action") or next(iter(step))
            removed.append(f"rule '{name}': cut at '{what}' and everything after it")
            break
    if rule.get("condition"):
        removed.append(f"rule '{name}': condition on slots dropped")
    while kept and "action" not in kept[-1]:
        kept.pop()
    if not kept or "action" not in kept[-1] or not any("intent" in s or "or" in s for s in kept):
        removed.append(f"rule '{name}': dropped (no response left)")
        return None
    return {"rule": name, "steps": kept}


def plain_inputs() -> Tuple[Dict[str, str], List[str]]:
    """The plain bot's files (relative path -> text) and what was stripped from ours."""
    removed: List[str] = []
    init = _rasa_package() / "cli" / "initial_project"
    domain = yaml.safe_load((ROOT / "domain.yml").read_text())
    for key in ("actions", "forms", "slots"):
        if domain.pop(key, None) is not None:
            removed.append(f"domain: '{key}' removed (custom actions, forms and their slots)")
    files: Dict[str, str] = {
        "config.yml": (init / "config.yml").read_text(),
        "endpoints.yml": (init / "endpoints.yml").read_text(),
        "credentials.yml": "rest:\n",
        "domain.yml": yaml.safe_dump(domain, sort_keys=False, allow_unicode=True, width=1000),
    }
    rules: List[Dict[str, Any]] = []
    for path in sorted((ROOT / "data" / "rules").glob("*.yml")):
        for rule in yaml.safe_load(path.read_text()).get("rules", []):
            stripped = _strip_rule(rule, removed)
            if stripped is not None:
                rules.append(stripped)
    if (ROOT / "data" / "stories").exists():
        raise SystemExit("data/stories appeared: teach bench/load.py to strip stories too")
    files["data/rules.yml"] = yaml.safe_dump({"version": "3.1", "rules": rules}, sort_keys=False, width=1000)
    for path in sorted((ROOT / "data" / "nlu").rglob("*.yml")):
        files[f"data/nlu/{path.relative_to(ROOT / 'data' / 'nlu')}"] = path.read_text()
    removed.append("config.yml: ours replaced by rasa init's (no SpaCy, encoder, entity normaliser, sentiment, "
                   "linear classifier, out-of-scope detector or EscalationPolicy); data/sentiment not used")
    removed.append("endpoints.yml: rasa init's (in-memory tracker store, no action server); credentials: rest only")
    return files, removed


def plain_key(files: Dict[str, str]) -> str:
    import rasa

    digest = hashlib.sha256(f"rasa {rasa.__version__}\n".encode())
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + files[name].encode() + b"\0")
    return digest.hexdigest()[:16]


def plain_model(train_timeout: float) -> Path:
    """The cached plain model for the current inputs, trained first when there is none."""
    files, removed = plain_inputs()
    home = PLAIN_CACHE / plain_key(files)
    model = home / "models" / "plain.tar.gz"
    if model.exists():
        return model
    home.mkdir(parents=True, exist_ok=True)
    with open(home / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another run training the same inputs: wait for it
        if model.exists():
            return model
        for name, text in files.items():
            (home / name).parent.mkdir(parents=True, exist_ok=True)
            (home / name).write_text(text)
        (home / "STRIPPED.txt").write_text("\n".join(removed) + "\n")
        print(f"Training the plain Rasa model in {home} (rasa init's config; about 20 minutes here)...", flush=True)
        started = time.monotonic()
        with open(home / "train.log", "wb") as log:
            command = [PYTHON, "-m", "rasa", "train", "--config", "config.yml", "--domain", "domain.yml",
                       "--data", "data", "--out", "models.partial", "--fixed-model-name", "plain"]
            try:
                done = subprocess.run(command, cwd=home, stdout=log, stderr=subprocess.STDOUT,
                                      env=_quiet_env(), timeout=train_timeout, preexec_fn=_die_with_parent)
            except subprocess.TimeoutExpired as exc:
                raise SystemExit(f"training the plain model took over {train_timeout:.0f} s; "
                                 f"see {home}/train.log") from exc
        if done.returncode != 0:
            raise SystemExit(f"training the plain model failed (exit {done.returncode}); see {home}/train.log")
        (home / "models").mkdir(exist_ok=True)
        os.replace(home / "models.partial" / "plain.tar.gz", model)
        shutil.rmtree(home / "models.partial", ignore_errors=True)
        print(f"Plain model trained in {time.monotonic() - started:.0f} s: {model}", flush=True)
    return model


# --------------------------------------------------------------------------------------------
# Processes
# --------------------------------------------------------------------------------------------

def _die_with_parent() -> None:
    """In the child: SIGTERM when the benchmark dies, however it dies (Linux prctl)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass
    os.setsid()


def _quiet_env(extra: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOT_")}
    env.update({"TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"})
    env.update(extra or {})
    return env


def port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def rss_mb(pid: int) -> Optional[float]:
    """Resident memory from /proc (psutil is not in the venv)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


@dataclass
class Proc:
    name: str
    command: List[str]
    env: Dict[str, str]
    cwd: Path
    health: str
    log: Path
    popen: Optional[subprocess.Popen] = None
    peak_mb: float = 0.0
    restarts: int = 0

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self.popen = subprocess.Popen(self.command, cwd=self.cwd, env=self.env, stdout=log,
                                          stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)

    @property
    def pid(self) -> int:
        return self.popen.pid if self.popen else -1

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    async def wait_healthy(self, timeout: float) -> None:
        deadline = now() + timeout
        async with aiohttp.ClientSession() as http:
            while True:
                if not self.alive():
                    code = self.popen.returncode if self.popen else None
                    raise RuntimeError(f"the {self.name} exited with code {code}; its log ends:\n{self.tail()}")
                try:
                    async with http.get(self.health, timeout=aiohttp.ClientTimeout(total=5)) as response:
                        if response.status == 200:
                            return
                except (aiohttp.ClientError, asyncio.TimeoutError):
                    pass
                if now() > deadline:
                    raise RuntimeError(f"the {self.name} did not answer {self.health} within {timeout:.0f} s; "
                                       f"its log ends:\n{self.tail()}")
                await asyncio.sleep(0.5)

    def sample(self) -> Optional[float]:
        mb = rss_mb(self.pid) if self.alive() else None
        if mb is not None:
            self.peak_mb = max(self.peak_mb, mb)
        return mb

    def kill9(self) -> None:
        if self.alive():
            os.kill(self.pid, signal.SIGKILL)
            self.popen.wait(10)

    def stop(self, grace: float = 20.0) -> None:
        if self.popen is None or self.popen.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(10)


def _postgres_admin(statement: str) -> None:
    """One statement outside a transaction on the admin database (CREATE or DROP DATABASE)."""
    import sqlalchemy as sa

    admin = sa.create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(statement))
    finally:
        admin.dispose()


class Stack:
    """Our three processes and the plain Rasa, on a scratch database; stopped whatever happens."""

    def __init__(self, args: argparse.Namespace, run_dir: Path, plain: Optional[Path]) -> None:
        base = args.port_base
        self.ports = {name: base + offset for name, offset in PORTS.items()}
        self.run_dir, self.args, self.plain = run_dir, args, plain
        self.rasa_token, self.action_token = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        self.hub_url = f"http://127.0.0.1:{self.ports['hub']}"
        self.hub_urls = [self.hub_url]  # where customers connect (index i: customer i's first choice)
        self.plain_url = f"http://127.0.0.1:{self.ports['plain']}"
        self.db_url = ""
        self.postgres_db = ""
        self.procs: Dict[str, Proc] = {}

    def check_ports(self) -> None:
        wanted = ["rasa", "action", "hub"] + (["plain"] if self.plain else [])
        busy = [f"{name} {self.ports[name]}" for name in wanted if not port_free(self.ports[name])]
        if busy:
            raise SystemExit(f"error: port(s) already in use: {', '.join(busy)}. Stop what listens there "
                             f"(`ss -ltnp | grep 71`) or pass another --port-base (7100-7199 block).")

    def env(self) -> Dict[str, str]:
        return _quiet_env({
            "BOT_DATABASE_URL": self.db_url,
            "BOT_RASA_PORT": str(self.ports["rasa"]),
            "BOT_ACTION_PORT": str(self.ports["action"]),
            "BOT_HUB_PORT": str(self.ports["hub"]),
            "BOT_HUB_HOST": "127.0.0.1",
            "BOT_RASA_TOKEN": self.rasa_token,
            "BOT_ACTION_TOKEN": self.action_token,
            "BOT_INTERNAL_TOKEN_FILE": str(self.run_dir / "internal-tokens.json"),
            "BOT_EMAIL_OUTBOX_DIR": str(self.run_dir / "outbox"),
            "BOT_DEMO_AGENT_PASSWORD": AGENT_PASSWORD,
            # A person is always "in": handoffs say "someone will be with you shortly".
            "BOT_BUSINESS_HOURS": "00:00-23:59:59.999999",
            "BOT_BUSINESS_DAYS": "mon,tue,wed,thu,fri,sat,sun",
            # All customers come from 127.0.0.1: the per-address widget limits would refuse them.
            "BOT_WIDGET_CONNECTIONS_PER_IP": "100000",
            "BOT_WIDGET_SESSIONS_PER_IP_PER_HOUR": "1000000",
            "BOT_WIDGET_MESSAGES_PER_MINUTE": "100000",
            "BOT_WIDGET_MESSAGE_BURST": "1000",
            "BOT_RASA_RETRY_SECONDS": str(self.args.rasa_retry_seconds),
        })

    def _database(self) -> None:
        if self.args.db == "postgres":
            self.postgres_db = f"bench_load_{uuid.uuid4().hex[:10]}"
            _postgres_admin(f'CREATE DATABASE "{self.postgres_db}"')
            self.db_url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{self.postgres_db}"
        else:
            self.db_url = f"sqlite+aiosqlite:///{self.run_dir / 'bot.db'}"
        for step in (["db", "upgrade"], ["db", "seed"]):
            done = subprocess.run([PYTHON, "-m", "bot", *step], cwd=ROOT, env=self.env(), capture_output=True,
                                  text=True, timeout=600)
            if done.returncode != 0:
                raise RuntimeError(f"`bot {' '.join(step)}` failed:\n{done.stdout}\n{done.stderr}")
            print("  " + done.stdout.strip().replace("\n", "\n  "), flush=True)

    def _add(self, name: str, command: List[str], health: str, env: Dict[str, str], cwd: Path = ROOT) -> Proc:
        proc = Proc(name, command, env, cwd, health, self.run_dir / f"{name.replace(' ', '-')}.log")
        self.procs[name] = proc
        return proc

    async def start(self) -> None:
        self.check_ports()
        print(f"Scratch database ({self.args.db}), migrated and seeded:", flush=True)
        self._database()
        endpoints = self.run_dir / "endpoints.yml"
        tracker_db = self.run_dir / "rasa_tracker.db"  # as bot.supervisor.write_endpoints does
        endpoints.write_text(f'tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: "{tracker_db}"\n')
        env = self.env()
        p = self.ports
        actions = self._add("action server", [PYTHON, "-m", "bot.internal.action_server"],
                            f"http://127.0.0.1:{p['action']}/health", env)
        rasa = self._add("Rasa server", [PYTHON, "-m", "bot.internal.rasa_server", "--model", str(self.args.model),
                                         "--endpoints", str(endpoints)],
                         f"http://127.0.0.1:{p['rasa']}/status?token={self.rasa_token}", env)
        hub = self._add("hub", [PYTHON, "-m", "bot", "serve"], f"{self.hub_url}/health", env)
        starting = [actions, rasa]
        if self.plain:
            home = self.plain.parent.parent
            plain = self._add("plain Rasa", [PYTHON, "-m", "rasa", "run", "--model", str(self.plain), "--port",
                                             str(p["plain"]), "--interface", "127.0.0.1", "--credentials",
                                             str(home / "credentials.yml"), "--endpoints", str(home / "endpoints.yml")],
                              f"{self.plain_url}/", _quiet_env(), cwd=home)
            starting.append(plain)
        names = ", ".join(f"the {s.name}" for s in starting)
        print(f"Starting {names} (Rasa loads its model in about a minute)...", flush=True)
        for proc in starting:
            proc.start()
        for proc in starting:
            await proc.wait_healthy(self.args.start_timeout)
        print("Starting the hub...", flush=True)
        hub.start()
        await hub.wait_healthy(120)

    async def restart(self, name: str, timeout: float) -> None:
        proc = self.procs[name]
        proc.stop(5)
        proc.start()
        proc.restarts += 1
        await proc.wait_healthy(timeout)

    def stop(self) -> None:
        for proc in reversed(list(self.procs.values())):
            try:
                proc.stop()
            except Exception as exc:  # keep stopping the others
                print(f"warning: stopping the {proc.name}: {exc!r}", file=sys.stderr)
        if self.postgres_db:
            _postgres_admin(f'DROP DATABASE IF EXISTS "{self.postgres_db}" WITH (FORCE)')

    def sample_memory(self) -> None:
        for proc in self.procs.values():
            proc.sample()


# The scale-out stack's ports (offsets in the same block): two hubs, two Rasa servers, one action server,
# a PostgreSQL and a Redis of its own (it restarts them), as tests/e2e/test_scale_out.py starts them.
CLUSTER_PORTS = {"rasa 1": 10, "rasa 2": 11, "action": 56, "hub 1": 82, "hub 2": 83, "postgres": 30, "redis": 31}


class ClusterStack(Stack):
    """The production scale-out path (README "Scale-out", deploy/scale-out/): two hub processes and two
    Rasa servers sharing a private PostgreSQL (the hubs' database, Rasa's tracker store) and a private
    Redis (socket fan-out between hubs, Rasa's lock store), one action server. For the faults that need
    it: a hub killed, PostgreSQL or Redis restarted."""

    def __init__(self, args: argparse.Namespace, run_dir: Path) -> None:
        super().__init__(args, run_dir, None)
        base = args.port_base
        self.ports = {name: base + offset for name, offset in CLUSTER_PORTS.items()}
        # The defaults each process's own port overrides (Stack.env names these).
        self.ports.update(rasa=self.ports["rasa 1"], hub=self.ports["hub 1"])
        self.hub_urls = [f"http://127.0.0.1:{self.ports[name]}" for name in ("hub 1", "hub 2")]
        self.hub_url = self.hub_urls[0]  # the agents' hub
        self.rasa_urls = [f"http://127.0.0.1:{self.ports[name]}" for name in ("rasa 1", "rasa 2")]
        self.postgres: Optional[Any] = None
        self.redis: Optional[Any] = None
        self.tracker_url = ""

    def check_ports(self) -> None:
        busy = [f"{name} {self.ports[name]}" for name in CLUSTER_PORTS if not port_free(self.ports[name])]
        if busy:
            raise SystemExit(f"error: port(s) already in use: {', '.join(busy)}. Stop what listens there "
                             f"(`ss -ltnp | grep 71`) or pass another --port-base (7100-7199 block).")

    def env(self) -> Dict[str, str]:
        env = super().env()
        assert self.redis is not None
        env.update({
            "BOT_ACTION_PORT": str(self.ports["action"]),
            "BOT_RASA_URLS": ",".join(self.rasa_urls),
            "BOT_RASA_TRACKER_STORE_URL": self.tracker_url,
            "BOT_RASA_LOCK_STORE_URL": f"{self.redis.url}/1",
            "BOT_HUB_REDIS_URL": f"{self.redis.url}/0",
        })
        return env

    def _database(self) -> None:
        import sqlalchemy as sa

        from tests.private_services import PrivatePostgres, PrivateRedis

        self.postgres = PrivatePostgres(self.ports["postgres"])
        self.postgres.start()
        self.redis = PrivateRedis(self.ports["redis"])
        self.redis.start()
        admin = sa.create_engine(self.postgres.url, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as connection:
                for name in ("bot", "rasa"):
                    connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        finally:
            admin.dispose()
        base = self.postgres.url.rsplit("/", 1)[0]
        self.db_url = f"{base.replace('postgresql://', 'postgresql+asyncpg://', 1)}/bot"
        self.tracker_url = f"{base}/rasa"
        for step in (["db", "upgrade"], ["db", "seed"]):
            done = subprocess.run([PYTHON, "-m", "bot", *step], cwd=ROOT, env=self.env(), capture_output=True,
                                  text=True, timeout=600)
            if done.returncode != 0:
                raise RuntimeError(f"`bot {' '.join(step)}` failed:\n{done.stdout}\n{done.stderr}")
            print("  " + done.stdout.strip().replace("\n", "\n  "), flush=True)

    async def start(self) -> None:
        self.check_ports()
        print(f"Scale-out stack: private PostgreSQL :{self.ports['postgres']} and Redis :{self.ports['redis']}, "
              "hub database migrated and seeded:", flush=True)
        self._database()
        endpoints = self.run_dir / "cluster-endpoints.yml"  # its SQLite store is replaced by the settings' ones
        endpoints.write_text(f'tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: "{self.run_dir / "unused.db"}"\n')
        env = self.env()
        actions = self._add("action server", [PYTHON, "-m", "bot.internal.action_server"],
                            f"http://127.0.0.1:{self.ports['action']}/health", env)
        starting = [actions]
        for name, url in zip(("rasa 1", "rasa 2"), self.rasa_urls, strict=True):
            starting.append(self._add(f"Rasa server {name[-1]}",
                                      [PYTHON, "-m", "bot.internal.rasa_server", "--model", str(self.args.model),
                                       "--endpoints", str(endpoints)],
                                      f"{url}/status?token={self.rasa_token}",
                                      {**env, "BOT_RASA_PORT": str(self.ports[name])}))
        print("Starting the action server and two Rasa servers (a minute or two)...", flush=True)
        for proc in starting:
            proc.start()
        for proc in starting:
            await proc.wait_healthy(self.args.start_timeout)
        print("Starting two hubs...", flush=True)
        for name, url in zip(("hub 1", "hub 2"), self.hub_urls, strict=True):
            hub = self._add(name, [PYTHON, "-m", "bot", "serve"], f"{url}/health",
                            {**env, "BOT_HUB_PORT": str(self.ports[name])})
            hub.start()
            await hub.wait_healthy(120)

    def stop(self) -> None:
        super().stop()
        for service in (self.redis, self.postgres):
            if service is not None:
                try:
                    service.close()
                except Exception as exc:  # keep stopping the other
                    print(f"warning: stopping a private service: {exc!r}", file=sys.stderr)


# --------------------------------------------------------------------------------------------
# What a level measures
# --------------------------------------------------------------------------------------------

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


# --------------------------------------------------------------------------------------------
# Customers: REST against the plain Rasa, socket.io against the hub
# --------------------------------------------------------------------------------------------

class Abandon(Exception):
    """The customer gives up on this conversation (no answer in time, refused, disconnected)."""


async def think(args: argparse.Namespace, rng: random.Random) -> None:
    if args.think > 0:
        await asyncio.sleep(rng.uniform(0.5, 1.5) * args.think)


async def rest_conversation(url: str, http: aiohttp.ClientSession, conv: load_scripts.Conversation,
                            stats: LevelStats, args: argparse.Namespace, rng: random.Random, end: float) -> None:
    sender = f"load-{uuid.uuid4().hex[:12]}"
    for turn in conv.turns:
        if now() >= end:
            return
        result = TurnResult(sent=now())
        stats.turns.append(result)
        try:
            async with http.post(f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": turn.text},
                                 timeout=aiohttp.ClientTimeout(total=args.reply_timeout)) as response:
                body = await response.read()
                if response.status != 200:
                    result.error = f"HTTP {response.status}"
                    stats.error(result.error)
                    raise Abandon
                replies = json.loads(body or b"[]")
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
            result.error = "timeout" if isinstance(exc, asyncio.TimeoutError) else type(exc).__name__
            stats.error(result.error)
            raise Abandon from exc
        result.first = result.last = now()
        if not replies:
            stats.empty += 1
        await think(args, rng)


def _queue_notice(text: str) -> bool:
    return text.startswith("You're next in the queue") or text.startswith("You're number ")


JOINED = re.compile(r" from our team has joined the chat\.$")
NO_ANSWER = notices.NO_ANSWER
OUTAGE_START = "Sorry, I'm having trouble answering right now."


@dataclass
class HubTurn:
    result: TurnResult
    replied: asyncio.Event = field(default_factory=asyncio.Event)
    held: bool = False


ACK_TIMEOUT = 10.0  # what the widget gives an acknowledgement before it sends the message again
RESEND_PAUSE = 2.0  # the widget waits 4 s; shorter here, so a retried message isn't counted late for nothing


async def _close_client(client: socketio.AsyncClient) -> None:
    with contextlib.suppress(Exception):
        await asyncio.wait_for(client.disconnect(), 5)


class HubCustomer:
    """One widget conversation: a socket.io client speaking Rasa's socketio protocol.

    Which turn a reply belongs to: the hub emits `typing` (from the bot, active) when it starts
    sending a stored message to Rasa, then the replies; work for one conversation runs in order.
    So the n-th such `typing` starts the n-th message sent to the bot, and replies belong to the
    turn whose `typing` came last, even when the customer already sent the next message. A `typing`
    after which nothing was said before the next one was an attempt that failed (a kept message
    retried while Rasa still fails: no second notice), so the next `typing` is for the same turn.

    Like the widget (bot/hub/static/widget.js) when its hub goes away: it connects to a hub again
    (the next one in `urls`, as a load balancer would send it) with the same session id, sends
    the message whose acknowledgement never came again with the same client message id (the hub
    stores it once), and asks for the history, whose messages it had not heard count as heard
    then (a reply is matched to its turn by the customer messages before it).
    """

    def __init__(self, urls: Sequence[str], stats: LevelStats, home: int = 0) -> None:
        self.urls, self.stats = list(urls), stats
        self.hub = home % len(self.urls)  # the hub this customer is on (index in urls)
        self.client: Optional[socketio.AsyncClient] = None
        self.dropped = asyncio.Event()  # the connection went away
        self.session_id: Optional[str] = None
        self.waiting: Deque[HubTurn] = deque()  # sent to the bot, its typing not seen yet
        self.current: Optional[HubTurn] = None
        self._heard_since_typing = True  # something was said for the current turn since its typing
        self.sent: List[Optional[HubTurn]] = []  # per stored customer message, in order (None: to a person)
        self.seen: set = set()  # hub message ids heard
        self._history: Optional[asyncio.Future] = None
        self.queued = asyncio.Event()  # the queue notice: people have the conversation
        self.queued_at = 0.0
        self.agent_said: List[Tuple[float, str]] = []
        self.agent_heard = 0  # the agent's messages of handoffs already over
        self.heard: List[str] = []  # what this customer heard and said, for problems.log
        self.agent_event = asyncio.Event()
        self.handed_back = asyncio.Event()
        self.waiting_turn: Optional[HubTurn] = None

    # -- connection ---------------------------------------------------------------------------

    async def _connect(self, index: int, timeout: float) -> None:
        client = socketio.AsyncClient(reconnection=False)
        confirmed = asyncio.get_running_loop().create_future()
        client.on("session_confirm", lambda sid: confirmed.done() or confirmed.set_result(sid))
        client.on("typing", self._typing)
        client.on("bot_uttered", self._uttered)
        client.on("history", self._history_in)
        client.on("disconnect", lambda *_: self._drop(client))
        try:
            await asyncio.wait_for(client.connect(self.urls[index], socketio_path="socket.io",
                                                  transports=["websocket"]), timeout)
            await client.emit("session_request", {"session_id": self.session_id})
            self.session_id = await asyncio.wait_for(confirmed, timeout)
        except BaseException:
            await _close_client(client)
            raise
        self.client, self.hub = client, index
        self.dropped.clear()

    async def _connect_any(self, first: int, deadline: float) -> bool:
        """Each hub in turn from `first`, round and round until one confirms the session or the deadline."""
        while True:
            for step in range(len(self.urls)):
                remaining = deadline - now()
                if remaining <= 0:
                    return False
                try:
                    await self._connect((first + step) % len(self.urls), min(5.0, remaining))
                    return True
                except (socketio.exceptions.SocketIOError, asyncio.TimeoutError, OSError):
                    continue
            await asyncio.sleep(min(0.5, max(0.0, deadline - now())))

    async def open(self, timeout: float) -> None:
        if not await self._connect_any(self.hub, now() + timeout):
            self.stats.error("connect: no hub answered")
            raise Abandon

    def _drop(self, client: socketio.AsyncClient) -> None:
        if client is not self.client:
            return
        self.dropped.set()
        # Its typing came but not its answer: the hub that picks the message up sends typing again.
        if self.current is not None and not self.current.replied.is_set():
            self.waiting.appendleft(self.current)
            self.current = None

    async def reconnect(self, deadline: float) -> None:
        """To the next hub (then any) with the same session, then what was said meanwhile from the history."""
        old, self.client = self.client, None
        if old is not None:
            await _close_client(old)
        self.stats.reconnects += 1
        if not await self._connect_any(self.hub + 1, deadline):
            self.stats.error("reconnect failed")
            raise Abandon
        assert self.client is not None
        self._history = asyncio.get_running_loop().create_future()
        try:
            await self.client.emit("history_request", {})
            messages = await asyncio.wait_for(self._history, max(0.1, min(5.0, deadline - now())))
        except (socketio.exceptions.SocketIOError, asyncio.TimeoutError):
            self.stats.error("no history after reconnecting")
            return
        self._catch_up(messages)

    def _history_in(self, data: Any) -> None:
        messages = (data or {}).get("messages") or []
        if self._history is not None and not self._history.done():
            self._history.set_result(messages)
        else:  # sent by the hub unasked (it lost Redis for a while): the widget shows it the same way
            self.stats.histories_pushed += 1
            self._catch_up(messages)

    def _catch_up(self, messages: List[Dict[str, Any]]) -> None:
        """What the hubs said while this customer was away, as if heard now."""
        live = self.current  # the turn being answered live: replies still to come are its
        live_index = next((i for i, t in enumerate(self.sent) if t is not None and t is live), -1)
        index = latest = -1
        for message in messages:
            if message.get("from") == "customer":
                index += 1
                if index >= len(self.sent):
                    break  # not acknowledged yet: what follows it comes live, or in a later history
                continue
            if message.get("id") in self.seen:
                continue
            if 0 <= index < len(self.sent):
                turn = self.sent[index]
                if turn is not None and turn in self.waiting:
                    self.waiting.remove(turn)
                self.current = turn
                latest = index
            self.stats.caught_up += 1
            self.heard.append("(from a history:)")
            self._uttered({"text": message.get("text"),
                           "metadata": {"from": message.get("from"), "message_id": message.get("id")}})
        if live is not None and live_index >= latest:
            self.current = live  # an older message heard late does not make an older turn current again
        self._answered_in(messages)

    def _answered_in(self, messages: List[Dict[str, Any]]) -> None:
        """Turns the history shows answered though no reply was matched to them live: answered now.

        A kept message's answer is stored after the customer's later messages, and the hub answers a
        conversation's messages in order, so each bot message in the history answers the earliest turn
        before it still without an answer (a turn's second reply may so count for the next turn).
        """
        index = -1
        for message in messages:
            if message.get("from") == "customer":
                index += 1
                if index >= len(self.sent):
                    return
                continue
            if message.get("from") != "bot":
                continue
            turn = next((t for t in self.sent[:index + 1]
                         if t is not None and t.result.last is None and t.result.error is None and not t.held), None)
            if turn is None:
                continue
            at = now()
            turn.result.first = turn.result.first or at
            turn.result.last = at
            turn.result.late = turn.result.late or turn.result.system == "outage"
            self.stats.matched_from_history += 1
            if turn in self.waiting:
                self.waiting.remove(turn)
            turn.replied.set()

    async def wait_for(self, event: asyncio.Event, deadline: float) -> bool:
        """Until the event, reconnecting when the connection drops; False at the deadline."""
        while not event.is_set():
            remaining = deadline - now()
            if remaining <= 0:
                return False
            if self.dropped.is_set() or self.client is None:
                await self.reconnect(deadline)
                continue
            waiters = [asyncio.ensure_future(event.wait()), asyncio.ensure_future(self.dropped.wait())]
            try:
                await asyncio.wait(waiters, timeout=remaining, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiter in waiters:
                    waiter.cancel()
        return True

    async def wait_for_kept(self, deadline: float) -> None:
        """Until every message that got the outage notice is answered, or the deadline."""
        def kept() -> bool:
            return any(t is not None and t.result.system == "outage" and t.result.last is None
                       and t.result.error is None for t in self.sent)

        while kept() and now() < deadline:
            if self.dropped.is_set() or self.client is None:
                await self.reconnect(deadline)
                continue
            await asyncio.sleep(0.2)
        if kept():
            self.stats.problem(self, "a kept message (outage notice) not answered")

    async def close(self) -> None:
        client, self.client = self.client, None
        if client is not None:
            await _close_client(client)

    # -- what the hub says ----------------------------------------------------------------------

    def _typing(self, data: Any) -> None:
        if isinstance(data, dict) and data.get("from") == "bot" and data.get("active"):
            self.heard.append(f"(typing, {len(self.waiting)} waiting)")
            if self.current is not None and not self._heard_since_typing:
                # The last attempt said nothing (a retry of a kept message failed again, no second
                # notice): this typing is another attempt at the same message.
                self.waiting.appendleft(self.current)
                self.current = None
            if self.waiting:
                self.current = self.waiting.popleft()
                self._heard_since_typing = False

    def _uttered(self, data: Any) -> None:
        at = now()
        meta = data.get("metadata") or {}
        message_id = meta.get("message_id")
        if message_id is not None:
            if message_id in self.seen:  # heard live and in the history
                return
            self.seen.add(message_id)
        who, text = meta.get("from"), data.get("text") or ""
        self.heard.append(f"{who}: {text[:60]}")
        if who == "agent":
            self.agent_said.append((at, text))
            self.agent_event.set()
            return
        if who == "system":
            if text == notices.HANDED_BACK:
                self.handed_back.set()
                return
            if JOINED.search(text):
                return
            if _queue_notice(text):
                self.queued_at = at
                self.queued.set()
                # Messages sent after the handoff are held for people: no bot turn will come.
                for held in self.waiting:
                    held.held = True
                    held.replied.set()
                self.waiting.clear()
                if self.waiting_turn is not None:
                    self.waiting_turn.replied.set()
        turn = self.current
        if turn is None:
            return
        self._heard_since_typing = True
        result = turn.result
        if who == "system" and text == NO_ANSWER:
            result.system = result.system or "no answer"
        elif who == "system" and text.startswith(OUTAGE_START):
            # Kept for later: the hub forwards it again (another `typing`) when Rasa is back.
            result.system = result.system or "outage"
            if result.first is None:
                result.first = at
            turn.replied.set()
            self.waiting.appendleft(turn)
            self.current = None
            return
        elif result.system == "outage" and who == "bot":
            result.late = True
        if result.first is None:
            result.first = at
        if not _queue_notice(text):
            result.last = at
        turn.replied.set()

    # -- what the customer says -----------------------------------------------------------------

    async def say_to_bot(self, text: str, timeout: float) -> HubTurn:
        turn = HubTurn(TurnResult(sent=now()))
        self.stats.turns.append(turn.result)
        self.waiting.append(turn)
        deadline = turn.result.sent + timeout
        await self._send(text, turn, deadline)
        self.waiting_turn = turn
        try:
            replied = await self.wait_for(turn.replied, deadline)
        except Abandon:
            turn.result.error = turn.result.error or "reconnect failed"
            raise
        finally:
            self.waiting_turn = None
        if not replied:
            turn.result.error = "timeout"
            self.stats.error("timeout")
            self.stats.problem(self, f"no reply to {text!r}")
            raise Abandon
        if turn.held:
            self.stats.turns.remove(turn.result)
            self.stats.held += 1
        return turn

    async def say_to_person(self, text: str, timeout: float) -> None:
        await self._send(text, None, now() + timeout)
        self.stats.held += 1

    async def _send(self, text: str, turn: Optional[HubTurn], deadline: float) -> None:
        """Sent until acknowledged (as stored), with the same client message id each time, like the widget."""
        message_id = uuid.uuid4().hex
        if turn is not None:
            turn.result.message_id = message_id
        self.heard.append(f"customer: {text[:60]}")
        attempts = 0
        while True:
            attempts += 1
            if self.dropped.is_set() or self.client is None:
                try:
                    await self.reconnect(deadline)
                except Abandon:
                    self._failed(turn, None)
                    raise
            assert self.client is not None
            try:
                ack = await self.client.call("user_uttered", {"message": text, "session_id": self.session_id,
                                                              "message_id": message_id},
                                             timeout=max(0.1, min(ACK_TIMEOUT, deadline - now())))
            except (socketio.exceptions.SocketIOError, asyncio.TimeoutError) as exc:
                if attempts == 1:
                    self.stats.unacked += 1
                    self.stats.unacked_ids.append(message_id)
                if now() >= deadline:
                    no_ack = isinstance(exc, (socketio.exceptions.TimeoutError, asyncio.TimeoutError))
                    self._failed(turn, "no ack" if no_ack else "socket")
                    raise Abandon from exc
                if not self.client.connected:
                    self.dropped.set()
                else:
                    await asyncio.sleep(min(RESEND_PAUSE, max(0.0, deadline - now())))
                continue
            if not (isinstance(ack, dict) and ack.get("ok")):
                self._failed(turn, f"refused: {ack.get('error') if isinstance(ack, dict) else ack}")
                raise Abandon
            if attempts > 1:
                self.stats.acked_on_retry += 1
                if ack.get("duplicate"):
                    self.stats.stored_before_ack += 1
            self.stats.acked_ids.append(message_id)
            self.sent.append(turn)
            return

    def _failed(self, turn: Optional[HubTurn], kind: Optional[str]) -> None:
        if kind is not None:
            self.stats.error(kind)
        if turn is not None:
            turn.result.error = kind or "reconnect failed"
            if turn in self.waiting:
                self.waiting.remove(turn)


async def hub_conversation(urls: Sequence[str], conv: load_scripts.Conversation, stats: LevelStats,
                           args: argparse.Namespace, rng: random.Random, end: float, home: int = 0) -> None:
    customer = HubCustomer(urls, stats, home)
    try:
        await customer.open(args.reply_timeout)
        for turn in conv.turns:
            if now() >= end:
                break
            if turn.handoff:
                stats.handoffs_expected += 1
            sent = await customer.say_to_bot(turn.text, args.reply_timeout)
            await think(args, rng)
            if turn.handoff and not customer.queued.is_set():
                # The queue notice follows the bot's words in the same turn; give it a moment.
                wait = max(2.0, 3 * ((sent.result.first or now()) - sent.result.sent))
                if not await customer.wait_for(customer.queued, now() + wait):
                    stats.handoffs_missed += 1
            if customer.queued.is_set():
                await with_people(customer, conv, stats, args, rng)
        # Told its message is kept and will be answered: it stays for the answer (within the reply timeout).
        await customer.wait_for_kept(now() + args.reply_timeout)
    finally:
        await customer.close()


async def with_people(customer: HubCustomer, conv: load_scripts.Conversation, stats: LevelStats,
                      args: argparse.Namespace, rng: random.Random) -> None:
    """The conversation is in the agents' queue: talk with the agent until they hand back."""
    stats.handoffs += 1
    # The agent says two things and hands back after the second answer: two lines each time.
    lines = list(conv.to_agent) or ["ok, thanks", "alright"]
    first = customer.agent_heard  # the agent's words of earlier handoffs (these may have come already)
    for index, line in enumerate(lines):
        # Each line answers one message of the agent's (which may have come while the customer thought).
        while len(customer.agent_said) <= first + index and not customer.handed_back.is_set():
            customer.agent_event.clear()
            if len(customer.agent_said) > first + index:
                break
            if not await customer.wait_for(customer.agent_event, now() + args.agent_timeout):
                stats.error("no agent")
                stats.problem(customer, "no agent message")
                raise Abandon
        if index == 0 and len(customer.agent_said) > first:
            stats.agent_waits.append(customer.agent_said[first][0] - customer.queued_at)
        if customer.handed_back.is_set():
            break
        await think(args, rng)
        await customer.say_to_person(line, args.reply_timeout)
    if not await customer.wait_for(customer.handed_back, now() + args.agent_timeout):
        stats.error("no hand-back")
        stats.problem(customer, "no hand-back")
        raise Abandon
    stats.handed_back += 1
    customer.agent_heard = len(customer.agent_said)
    customer.queued.clear()
    customer.handed_back.clear()


# --------------------------------------------------------------------------------------------
# Agents: console socket + HTTP, take, answer, hand back
# --------------------------------------------------------------------------------------------

class AgentDesk:
    """The demo agents, each signed in with a console socket, sharing the queue between them."""

    REPLIES = (
        "Hi, I'm {name} from the team. I've read the conversation, let me look at your account.",
        "Thanks. I've checked it and put a note on your account; the assistant can help with the rest.",
    )

    def __init__(self, hub_url: str, timeout: float) -> None:
        self.hub_url, self.timeout = hub_url, timeout
        self.agents: List[Dict[str, Any]] = []
        self.handling: Dict[str, asyncio.Task] = {}
        self.customer_said: Dict[str, asyncio.Queue] = {}
        self.counts: Counter = Counter()
        self._poller: Optional[asyncio.Task] = None

    async def start(self) -> None:
        for index, (email, name) in enumerate(DEMO_AGENTS):
            http = aiohttp.ClientSession(base_url=self.hub_url, cookie_jar=aiohttp.CookieJar(unsafe=True),
                                         timeout=aiohttp.ClientTimeout(total=self.timeout))
            agent = {"index": index, "name": name.split()[0], "http": http}
            self.agents.append(agent)
            async with http.post("/api/auth/login", json={"email": email, "password": AGENT_PASSWORD}) as response:
                if response.status != 200:
                    raise RuntimeError(f"agent sign-in for {email} failed: {response.status} {await response.text()}")
            sio = socketio.AsyncClient(reconnection=False)
            agent["sio"] = sio
            sio.on("queue", lambda data, agent=agent: self._queue(agent, data), namespace="/console")
            sio.on("message", lambda data, agent=agent: self._message(agent, data), namespace="/console")
            cookie = "; ".join(f"{c.key}={c.value}" for c in http.cookie_jar)
            await asyncio.wait_for(sio.connect(self.hub_url, headers={"Cookie": cookie}, namespaces=["/console"],
                                               transports=["websocket"], socketio_path="socket.io"), self.timeout)
        self._poller = asyncio.ensure_future(self._poll())

    async def _poll(self) -> None:
        """In case a queue event is missed: look at the queue every few seconds."""
        while True:
            await asyncio.sleep(5)
            for agent in self.agents:
                try:
                    async with agent["http"].get("/api/queue") as response:
                        if response.status == 200:
                            self._queue(agent, await response.json())
                except (aiohttp.ClientError, asyncio.TimeoutError):
                    self.counts["queue poll failed"] += 1

    def _mine(self, agent: Dict[str, Any], cid: str) -> bool:
        """Every console hears everything: each conversation belongs to one agent."""
        return zlib.crc32(cid.encode()) % len(self.agents) == agent["index"]

    def _queue(self, agent: Dict[str, Any], data: Any) -> None:
        for item in (data or {}).get("queue", []):
            cid = item.get("conversation_id")
            if not cid or item.get("status") != "pending" or not self._mine(agent, cid):
                continue
            if cid in self.handling and not self.handling[cid].done():
                continue
            self.customer_said.setdefault(cid, asyncio.Queue())
            self.handling[cid] = asyncio.ensure_future(self._handle(agent, cid))

    def _message(self, agent: Dict[str, Any], data: Any) -> None:
        cid = (data or {}).get("conversation_id")
        if cid and (data.get("message") or {}).get("from") == "customer" and self._mine(agent, cid):
            self.customer_said.setdefault(cid, asyncio.Queue()).put_nowait(now())

    async def _post(self, agent: Dict[str, Any], path: str, body: Optional[Dict[str, Any]] = None) -> int:
        async with agent["http"].post(path, json=body if body is not None else {}) as response:
            await response.read()
            return response.status

    async def _handle(self, agent: Dict[str, Any], cid: str) -> None:
        try:
            status = await self._post(agent, f"/api/conversations/{cid}/take")
            if status != 200:
                self.counts[f"take {status}"] += 1
                return
            self.counts["taken"] += 1
            said = self.customer_said[cid]
            for reply in self.REPLIES:
                if await self._post(agent, f"/api/conversations/{cid}/messages",
                                    {"text": reply.format(name=agent["name"])}) != 201:
                    self.counts["message refused"] += 1
                try:
                    await asyncio.wait_for(said.get(), self.timeout)
                except asyncio.TimeoutError:
                    self.counts["customer silent"] += 1
                    break
            status = await self._post(agent, f"/api/conversations/{cid}/handback")
            self.counts["handed back" if status == 200 else f"handback {status}"] += 1
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            self.counts[f"agent error {type(exc).__name__}"] += 1

    async def settle(self, timeout: float) -> None:
        busy = [t for t in self.handling.values() if not t.done()]
        if busy:
            await asyncio.wait(busy, timeout=timeout)

    async def stop(self) -> None:
        if self._poller:
            self._poller.cancel()
        for task in self.handling.values():
            task.cancel()
        for agent in self.agents:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(agent["sio"].disconnect(), 5)
            await agent["http"].close()


# --------------------------------------------------------------------------------------------
# Levels
# --------------------------------------------------------------------------------------------

async def run_level(path: str, n: int, stack: Stack, args: argparse.Namespace, seed: int,
                    seconds: Optional[float] = None, during: Optional[Callable[[float], Any]] = None) -> LevelStats:
    seconds = seconds or args.seconds
    stats = LevelStats(path, n, seconds)
    rngs = [random.Random(seed * 1000 + i) for i in range(n)]
    http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) if path == "plain" else None

    async def customer(index: int) -> None:
        rng = rngs[index]
        await asyncio.sleep(rng.uniform(0, min(1.0, args.think * 2)))  # don't all start at one instant
        while now() < end and len(stats.turns) < args.max_messages:
            conv = load_scripts.conversation(rng)
            stats.conversations += 1
            try:
                if path == "plain":
                    await rest_conversation(stack.plain_url, http, conv, stats, args, rng, end)
                else:
                    await hub_conversation(stack.hub_urls, conv, stats, args, rng, end, home=index)
            except Abandon:
                await asyncio.sleep(0.5)

    stats.started = now()
    end = stats.started + seconds
    tasks = [asyncio.ensure_future(customer(i)) for i in range(n)]
    extra = asyncio.ensure_future(during(stats.started)) if during else None
    try:
        limit = seconds + args.reply_timeout + 3 * args.agent_timeout + 30
        done, pending = await asyncio.wait(tasks + ([extra] if extra else []), timeout=limit)
        for task in pending:
            task.cancel()
            stats.error("customer cut off at the time limit")
        for task in done:
            if task.exception() is not None:
                stats.error(f"crash: {task.exception()!r}")
    finally:
        if http:
            await http.close()
    return stats


async def warm_up(path: str, stack: Stack, args: argparse.Namespace, hub: int = 0) -> None:
    conv = load_scripts.Conversation("warm-up", [load_scripts.Turn(t) for t in load_scripts.warm_up_lines()])
    stats = LevelStats(path, 1, 0)
    rng = random.Random(0)
    quiet = argparse.Namespace(**{**vars(args), "think": 0.0})
    if path == "plain":
        async with aiohttp.ClientSession() as http:
            await rest_conversation(stack.plain_url, http, conv, stats, quiet, rng, now() + 300)
    else:
        await hub_conversation(stack.hub_urls, conv, stats, quiet, rng, now() + 300, home=hub)
    if stats.errors:
        raise RuntimeError(f"warm-up against {path} failed: {dict(stats.errors)}")


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


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------

def _ms(value: float) -> str:
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
                     _ms(percentile(lat, 50)), _ms(percentile(lat, 95)), _ms(percentile(lat, 99)), str(errors),
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
            bits.append(f"first reply p50 {_ms(percentile(firsts, 50))} ms")
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


# --------------------------------------------------------------------------------------------
# Profile: py-spy on our Rasa server, hub and action server during a 1-customer run
# --------------------------------------------------------------------------------------------

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
                                                       preexec_fn=_die_with_parent)))
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
             f"{args.profile_seconds:.0f} s, {messages} bot messages, hub p50 {_ms(percentile(lat, 50))} ms):"]
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


# --------------------------------------------------------------------------------------------
# Faults: kill -9 the action server or the Rasa server during a 16-customer run (the levels' stack);
# on the scale-out stack, kill -9 a hub or restart PostgreSQL or Redis
# --------------------------------------------------------------------------------------------

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


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------

async def sample_memory(stack: Stack, own: List[float]) -> None:
    while True:
        stack.sample_memory()
        own[0] = max(own[0], rss_mb(os.getpid()) or 0.0)
        await asyncio.sleep(1)


def write_problems(stack: Stack, levels: List[LevelStats], title: str) -> None:
    problems = [p for s in levels for p in s.problems]
    if problems:
        with open(stack.run_dir / "problems.log", "a") as log:
            log.write(f"== {title}\n" + "\n".join(problems) + "\n")
        print(f"  ({len(problems)} customers' problems, with what they last heard: {stack.run_dir / 'problems.log'})")


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
