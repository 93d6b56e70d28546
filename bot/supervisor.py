"""Starts the product's processes, keeps them running, stops them cleanly.

The action server, the Rasa server and the hub, in that order: the hub comes up
last so the first customer message finds the bot ready. A process that dies is
started again after a backoff (1, 2, 4 ... seconds, up to the configured maximum;
back to 1 after a minute of good health), the way systemd's ``Restart=always``
does, and the others keep running: the hub keeps customers' messages while Rasa
or the action server is away and answers them when it is back. For production,
``deploy/`` has systemd units and a Procfile that do the same with those tools.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Mapping, Optional

import aiohttp

from bot.config import PROJECT_ROOT, Settings
from bot.email import email_status

logger = logging.getLogger(__name__)

# A process that stayed up this long starts its next backoff from the beginning.
STABLE_SECONDS = 60.0


@dataclass
class Process:
    name: str
    command: List[str]
    health_url: str
    # Query parameters for the health check (Rasa's /status wants its token).
    health_params: Dict[str, str] = field(default_factory=dict)
    proc: Optional[asyncio.subprocess.Process] = None
    restarts: int = 0
    # Stopped on purpose: not restarted until released.
    held: bool = False


def write_endpoints(settings: Settings, path: Path, tracker_db: Path) -> Path:
    """Endpoints for this run: the tracker store. The action server's URL and token
    come from the settings (bot.internal.rasa_server), so no secret is written here."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: "{tracker_db}"\n')
    return path


def processes(settings: Settings, model: Path, var_dir: Path = PROJECT_ROOT / "var") -> List[Process]:
    endpoints = write_endpoints(settings, var_dir / "endpoints.yml", var_dir / "rasa_tracker.db")
    python = sys.executable
    return [
        Process(
            "action server",
            [python, "-m", "bot.internal.action_server"],
            f"http://127.0.0.1:{settings.action.port}/health",
        ),
        Process(
            "Rasa server",
            [python, "-m", "bot.internal.rasa_server", "--model", str(model), "--endpoints", str(endpoints)],
            f"http://127.0.0.1:{settings.rasa.port}/status",
            health_params={"token": settings.rasa.token},
        ),
        Process("hub", [python, "-m", "bot", "serve"], f"http://127.0.0.1:{settings.hub.port}/health"),
    ]


def child_environment(settings: Settings, env: Optional[Mapping[str, str]]) -> Dict[str, str]:
    """The children's environment: the caller's, plus the internal tokens, so that
    all three processes hold the same ones."""
    base = dict(os.environ if env is None else env)
    base.update({"BOT_RASA_TOKEN": settings.rasa.token, "BOT_ACTION_TOKEN": settings.action.token})
    return base


async def wait_healthy(process: Process, timeout: float = 240.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    async with aiohttp.ClientSession() as session:
        while True:
            if process.proc is not None and process.proc.returncode is not None:
                raise RuntimeError(f"{process.name} exited with code {process.proc.returncode}")
            try:
                async with session.get(
                    process.health_url, params=process.health_params, timeout=aiohttp.ClientTimeout(total=5)
                ) as response:
                    if response.status == 200:
                        return
            except (aiohttp.ClientError, asyncio.TimeoutError):
                pass
            if asyncio.get_running_loop().time() > deadline:
                raise RuntimeError(f"{process.name} did not become healthy within {timeout:.0f}s")
            await asyncio.sleep(0.5)


async def _terminate(process: Process, grace: float = 20.0) -> None:
    if process.proc is None:
        return
    if process.proc.returncode is None:
        process.proc.terminate()
    try:
        await asyncio.wait_for(process.proc.wait(), grace)
    except asyncio.TimeoutError:
        process.proc.kill()
        await process.proc.wait()


class Supervisor:
    def __init__(
        self,
        settings: Settings,
        model: Path,
        env: Optional[Mapping[str, str]] = None,
        var_dir: Path = PROJECT_ROOT / "var",
    ) -> None:
        self.settings = settings
        self.processes = processes(settings, model, var_dir)
        self.env = child_environment(settings, env)
        self.stopping = False
        self._watchers: Dict[str, asyncio.Task] = {}

    def process(self, name: str) -> Process:
        return next(p for p in self.processes if p.name == name)

    async def _spawn(self, process: Process) -> None:
        process.proc = await asyncio.create_subprocess_exec(*process.command, cwd=PROJECT_ROOT, env=self.env)

    async def start_all(self) -> None:
        """Starts each process in turn and waits until it answers, then looks after it."""
        for process in self.processes:
            print(f"Starting the {process.name}...", flush=True)
            await self._spawn(process)
            await wait_healthy(process)
            self._watch(process)

    def _watch(self, process: Process) -> None:
        self._watchers[process.name] = asyncio.ensure_future(self._keep_running(process))

    async def _keep_running(self, process: Process) -> None:
        loop = asyncio.get_running_loop()
        backoff = 1.0
        while True:
            started = loop.time()
            proc = process.proc
            assert proc is not None  # spawned before it is watched, and again before each later wait
            code = await proc.wait()
            if self.stopping or process.held:
                return
            if loop.time() - started >= STABLE_SECONDS:
                backoff = 1.0
            logger.warning("the %s exited with code %s; restarting it in %.0f s", process.name, code, backoff)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, self.settings.restart_backoff_max_seconds)
            if self.stopping or process.held:
                return
            await self._spawn(process)
            process.restarts += 1
            try:
                await wait_healthy(process)
                logger.info("the %s is back (restart %d)", process.name, process.restarts)
            except RuntimeError as exc:  # it died again while starting: the loop tries again
                logger.warning("%s", exc)

    async def hold(self, name: str) -> None:
        """Stops one process on purpose; it stays down until ``release``."""
        process = self.process(name)
        process.held = True
        await _terminate(process)
        watcher = self._watchers.pop(name, None)
        if watcher is not None:
            await asyncio.gather(watcher, return_exceptions=True)

    async def release(self, name: str) -> None:
        """Starts a held process again and looks after it."""
        process = self.process(name)
        process.held = False
        await self._spawn(process)
        await wait_healthy(process)
        self._watch(process)

    async def stop(self) -> None:
        self.stopping = True
        for watcher in self._watchers.values():
            watcher.cancel()
        await asyncio.gather(*self._watchers.values(), return_exceptions=True)
        for process in reversed(self.processes):
            if process.proc and process.proc.returncode is None:
                process.proc.terminate()
        for process in reversed(self.processes):
            await _terminate(process)


async def run(settings: Settings, model: Path) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    stop_requested = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop_requested.set)
    supervisor = Supervisor(settings, model)
    try:
        await supervisor.start_all()
        print(
            "\nThe support bot is running.\n"
            f"  Demo page with the chat widget: {settings.hub_url}/\n"
            f"  Agent console:                  {settings.hub_url}/console\n"
            "    sign in as alex@northwind.example or sam@northwind.example,"
            f" password {settings.demo_agent_password!r}\n"
            f"  {email_status(settings)}\n"
            f"  Rasa server (internal):  {settings.rasa.url} on {settings.rasa.host}, token required\n"
            f"  Action server (internal): {settings.action.url} on {settings.action.host}, token required\n"
            "  Chat in this terminal:      bin/chat   (in a second terminal)\n"
            "A process that stops is restarted. Press Ctrl-C to stop.\n",
            flush=True,
        )
        await stop_requested.wait()
        return 0
    except RuntimeError as exc:
        print(f"Could not start: {exc}", file=sys.stderr)
        return 1
    finally:
        print("Stopping...", flush=True)
        await supervisor.stop()
