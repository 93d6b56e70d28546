"""Starts and stops what bench/load.py measures: our stack as `bot start` runs it (and the plain
`rasa run` beside it) on a scratch database, or the scale-out stack the hub, PostgreSQL and Redis
faults need; every process dies with the benchmark, and its memory is sampled while it runs."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BENCH_VAR = ROOT / "var" / "bench"
# Port offsets inside the 7100-7199 block given to this benchmark.
PORTS = {"rasa": 5, "plain": 6, "action": 55, "hub": 80}
POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
AGENT_PASSWORD = "northwind-demo"  # what `bot db seed` gives the demo agents (BOT_DEMO_AGENT_PASSWORD)


def now() -> float:
    return time.perf_counter()


def die_with_parent() -> None:
    """In the child: SIGTERM when the benchmark dies, however it dies (Linux prctl)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass
    os.setsid()


def quiet_env(extra: Optional[Dict[str, str]] = None) -> Dict[str, str]:
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
                                          stderr=subprocess.STDOUT, preexec_fn=die_with_parent)

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
        return quiet_env({
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
        self._migrate_and_seed()

    def _migrate_and_seed(self) -> None:
        """`bot db upgrade` and `bot db seed` on the stack's database, as a new user's first start does."""
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
                              f"{self.plain_url}/", quiet_env(), cwd=home)
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
        self._migrate_and_seed()

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


async def sample_memory(stack: Stack, own: List[float]) -> None:
    while True:
        stack.sample_memory()
        own[0] = max(own[0], rss_mb(os.getpid()) or 0.0)
        await asyncio.sleep(1)
