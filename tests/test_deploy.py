"""The production process files (deploy/) start what `bot start` starts: each
command runs a module that exists with files that exist, and systemd restarts them."""

from __future__ import annotations

import configparser
import importlib.util
import shlex

from bot.config import PROJECT_ROOT

DEPLOY = PROJECT_ROOT / "deploy"


def check_command(command: str) -> None:
    words = shlex.split(command)
    module = words[words.index("-m") + 1]
    assert importlib.util.find_spec(module) is not None, module
    if "--endpoints" in words:
        assert (PROJECT_ROOT / words[words.index("--endpoints") + 1]).is_file()


def test_procfile_runs_the_three_processes():
    entries = dict(line.split(":", 1) for line in (DEPLOY / "Procfile").read_text().splitlines()
                   if line.strip() and not line.startswith("#"))
    assert set(entries) == {"actions", "rasa", "hub"}
    for command in entries.values():
        check_command(command)


def test_systemd_units_restart_their_process():
    units = sorted((DEPLOY / "systemd").glob("*.service"))
    assert len(units) == 3
    for unit in units:
        parser = configparser.ConfigParser(strict=False, interpolation=None)
        parser.read_string(unit.read_text())
        assert parser["Service"]["Restart"] == "always", unit.name
        check_command(parser["Service"]["ExecStart"])
