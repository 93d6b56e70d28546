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


def test_scale_out_procfile_gives_each_process_its_own_port():
    entries = dict(line.split(":", 1) for line in (DEPLOY / "scale-out" / "Procfile").read_text().splitlines()
                   if line.strip() and not line.startswith("#"))
    assert set(entries) == {"actions1", "actions2", "rasa1", "rasa2", "hub1", "hub2"}
    ports = []
    for command in entries.values():
        check_command(command)
        ports += [word.split("=", 1)[1] for word in shlex.split(command) if word.split("=")[0].endswith("_PORT")]
    assert len(ports) == len(set(ports)) == 6
    # Each Rasa server asks its own action server; one hub polls the mailbox.
    assert "5055/webhook" in entries["rasa1"] and "5056/webhook" in entries["rasa2"]
    assert "BOT_IMAP_HOST= " in entries["hub2"] and "BOT_IMAP_HOST" not in entries["hub1"]


def test_scale_out_units_are_templates_with_their_own_settings():
    units = sorted((DEPLOY / "scale-out").glob("*@.service"))
    assert [unit.name for unit in units] == [
        "support-bot-actions@.service", "support-bot-hub@.service", "support-bot-rasa@.service"]
    for unit in units:
        parser = configparser.ConfigParser(strict=False, interpolation=None)
        parser.read_string(unit.read_text())
        assert parser["Service"]["Restart"] == "always", unit.name
        assert "/etc/support-bot/%p-%i.env" in unit.read_text(), unit.name
        check_command(parser["Service"]["ExecStart"])
