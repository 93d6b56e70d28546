"""The plain Rasa reference bench/load.py compares our stack with: a model trained with `rasa init`'s
config on our NLU data, rules and domain stripped to responses only, cached by a hash of its inputs."""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import yaml

from bench.load_stack import BENCH_VAR, PYTHON, ROOT, die_with_parent, quiet_env

PLAIN_CACHE = BENCH_VAR / "plain-rasa"


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
                                      env=quiet_env(), timeout=train_timeout, preexec_fn=die_with_parent)
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
