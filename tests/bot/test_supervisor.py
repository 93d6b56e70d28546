"""The supervisor with real child processes (small HTTP servers): a child killed
with SIGKILL is started again after its backoff while the others keep running; one
stopped on purpose stays down until released; stop ends them all."""

from __future__ import annotations

import asyncio
import os
import signal
import sys

import pytest

from bot import supervisor
from bot.config import load_settings
from tests.bot.hub.conftest import free_port


def http_child(name: str) -> supervisor.Process:
    port = free_port()
    return supervisor.Process(name, [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
                              f"http://127.0.0.1:{port}/")


@pytest.fixture
async def looked_after(tmp_path):
    settings = load_settings({"BOT_RESTART_BACKOFF_MAX_SECONDS": "1", "BOT_RASA_TOKEN": "r" * 20,
                              "BOT_ACTION_TOKEN": "a" * 20})
    sup = supervisor.Supervisor(settings, tmp_path / "model.tar.gz", env=dict(os.environ), var_dir=tmp_path)
    sup.processes = [http_child("first"), http_child("second")]
    await sup.start_all()
    yield sup
    await sup.stop()


async def until(check, timeout=20.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "not in time"
        await asyncio.sleep(0.05)


async def test_a_killed_child_is_restarted_and_the_others_keep_running(looked_after):
    first, second = looked_after.process("first"), looked_after.process("second")
    second_pid = second.proc.pid
    old_pid = first.proc.pid
    os.kill(old_pid, signal.SIGKILL)
    await until(lambda: first.restarts == 1 and first.proc.pid != old_pid)
    await supervisor.wait_healthy(first, timeout=20)
    assert second.proc.pid == second_pid and second.proc.returncode is None
    # And again: a second death is also survived (backoff capped at 1 s here).
    os.kill(first.proc.pid, signal.SIGKILL)
    await until(lambda: first.restarts == 2)
    await supervisor.wait_healthy(first, timeout=20)


async def test_a_held_child_stays_down_until_released(looked_after):
    first = looked_after.process("first")
    await looked_after.hold("first")
    assert first.proc.returncode is not None
    await asyncio.sleep(1.5)  # longer than the backoff
    assert first.restarts == 0 and first.proc.returncode is not None
    await looked_after.release("first")
    assert first.proc.returncode is None
    await supervisor.wait_healthy(first, timeout=20)


async def test_stop_ends_every_child_and_none_is_restarted(looked_after):
    await looked_after.stop()
    assert all(p.proc.returncode is not None for p in looked_after.processes)
    await asyncio.sleep(1.5)
    assert all(p.restarts == 0 and p.proc.returncode is not None for p in looked_after.processes)


async def test_children_get_the_internal_tokens(tmp_path):
    settings = load_settings({"BOT_RASA_TOKEN": "r" * 20, "BOT_ACTION_TOKEN": "a" * 20})
    env = supervisor.child_environment(settings, {"PATH": "/bin"})
    assert env == {"PATH": "/bin", "BOT_RASA_TOKEN": "r" * 20, "BOT_ACTION_TOKEN": "a" * 20}
    # Rasa's health check carries its token; nothing is started with a secret on its command line.
    processes = supervisor.processes(settings, tmp_path / "m.tar.gz", tmp_path)
    rasa = next(p for p in processes if p.name == "Rasa server")
    assert rasa.health_params == {"token": "r" * 20}
    assert not any("r" * 20 in " ".join(p.command) or "a" * 20 in " ".join(p.command) for p in processes)
    assert "token" not in (tmp_path / "endpoints.yml").read_text()
