"""Starts the product's processes, waits until they answer, stops them cleanly.

The action server, the Rasa server and the hub, in that order: the hub comes up
last so the first customer message finds the bot ready.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional

import aiohttp

from bot.config import PROJECT_ROOT, Settings
from bot.email import email_status


@dataclass
class Process:
    name: str
    command: List[str]
    health_url: str
    proc: Optional[asyncio.subprocess.Process] = None


def write_endpoints(settings: Settings, path: Path, tracker_db: Path) -> Path:
    """Endpoints for this run: the action server's port and the tracker store."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "action_endpoint:\n"
        f"  url: \"http://localhost:{settings.action_port}/webhook\"\n"
        "tracker_store:\n"
        "  type: SQL\n"
        "  dialect: sqlite\n"
        f"  db: \"{tracker_db}\"\n"
    )
    return path


def processes(settings: Settings, model: Path, var_dir: Path = PROJECT_ROOT / "var") -> List[Process]:
    endpoints = write_endpoints(settings, var_dir / "endpoints.yml", var_dir / "rasa_tracker.db")
    python = sys.executable
    return [
        Process(
            "action server",
            [python, "-m", "rasa_sdk", "--actions", "actions", "--port", str(settings.action_port)],
            f"http://localhost:{settings.action_port}/health",
        ),
        Process(
            "Rasa server",
            [python, "-m", "rasa", "run", "--enable-api", "--model", str(model),
             "--port", str(settings.rasa_port), "--endpoints", str(endpoints),
             "--credentials", str(PROJECT_ROOT / "credentials.yml"), "--cors", "*"],
            f"http://localhost:{settings.rasa_port}/status",
        ),
        Process("hub", [python, "-m", "bot", "serve"], f"http://localhost:{settings.hub_port}/health"),
    ]


async def wait_healthy(process: Process, timeout: float = 240.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    async with aiohttp.ClientSession() as session:
        while True:
            if process.proc is not None and process.proc.returncode is not None:
                raise RuntimeError(f"{process.name} exited with code {process.proc.returncode}")
            try:
                async with session.get(process.health_url, timeout=aiohttp.ClientTimeout(total=5)) as response:
                    if response.status == 200:
                        return
            except (aiohttp.ClientError, asyncio.TimeoutError):
                pass
            if asyncio.get_running_loop().time() > deadline:
                raise RuntimeError(f"{process.name} did not become healthy within {timeout:.0f}s")
            await asyncio.sleep(1.0)


async def stop(running: List[Process]) -> None:
    for process in reversed(running):
        if process.proc and process.proc.returncode is None:
            process.proc.terminate()
    for process in reversed(running):
        if process.proc:
            try:
                await asyncio.wait_for(process.proc.wait(), 20)
            except asyncio.TimeoutError:
                process.proc.kill()
                await process.proc.wait()


async def start_all(
    settings: Settings,
    model: Path,
    running: List[Process],
    env: Optional[Dict[str, str]] = None,
    var_dir: Path = PROJECT_ROOT / "var",
) -> None:
    """Starts each process in turn and waits until it answers; appends to ``running``."""
    for process in processes(settings, model, var_dir):
        print(f"Starting the {process.name}...", flush=True)
        process.proc = await asyncio.create_subprocess_exec(*process.command, cwd=PROJECT_ROOT, env=env)
        running.append(process)
        await wait_healthy(process)


async def run(settings: Settings, model: Path) -> int:
    stop_requested = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop_requested.set)
    running: List[Process] = []
    try:
        await start_all(settings, model, running)
        print(
            "\nThe support bot is running.\n"
            f"  Demo page with the chat widget: {settings.hub_url}/\n"
            f"  Agent console:                  {settings.hub_url}/console\n"
            f"    sign in as alex@northwind.example or sam@northwind.example, password {settings.demo_agent_password!r}\n"
            f"  {email_status(settings)}\n"
            f"  Rasa server (REST webhook): http://localhost:{settings.rasa_port}/webhooks/rest/webhook\n"
            f"  Rasa HTTP API:              http://localhost:{settings.rasa_port}/status\n"
            f"  Action server:              http://localhost:{settings.action_port}/health\n"
            "  Chat in this terminal:      bin/chat   (in a second terminal)\n"
            "Press Ctrl-C to stop.\n",
            flush=True,
        )
        waiters = [asyncio.ensure_future(p.proc.wait()) for p in running]
        stopper = asyncio.ensure_future(stop_requested.wait())
        done, _ = await asyncio.wait(waiters + [stopper], return_when=asyncio.FIRST_COMPLETED)
        for future in waiters + [stopper]:
            future.cancel()
        if stopper not in done:
            crashed = [p.name for p in running if p.proc.returncode is not None]
            print(f"Stopping: {', '.join(crashed)} exited unexpectedly.", file=sys.stderr)
            return 1
        return 0
    except RuntimeError as exc:
        print(f"Could not start: {exc}", file=sys.stderr)
        return 1
    finally:
        print("Stopping...", flush=True)
        await stop(running)
