"""The house's code checks, with the pinned tools from .venv-tools (bin/test-tools installs
them): ruff's lint and format, and mypy with the project's installed packages, all clean on
bot/ and actions/ (configured in pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bot.config import PROJECT_ROOT

TOOLS = PROJECT_ROOT / ".venv-tools" / "bin"


def run(*command: str) -> subprocess.CompletedProcess:
    tool = TOOLS / command[0]
    assert tool.exists(), f"{command[0]} is missing: run bin/test-tools (bin/test does)"
    return subprocess.run([str(tool), *command[1:]], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("check", [("check", "bot", "actions"), ("format", "--check", "bot", "actions")])
def test_ruff_is_clean(check):
    result = run("ruff", *check, "--no-cache")
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]


def test_mypy_is_clean():
    # The project's own interpreter, so mypy sees the installed packages' types (SQLAlchemy, aiohttp ...).
    result = run("mypy", "--python-executable", sys.executable, "--no-incremental")
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-2000:]
    assert "Success: no issues found" in result.stdout
