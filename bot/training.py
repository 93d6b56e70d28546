"""Trains the Rasa model when its inputs changed since the last training.

The fingerprint covers everything the model is built from (pipeline, domain,
training data, the project's own components), so `bin/start` and `bin/test`
train on a fresh clone and reuse the model afterwards.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path
from typing import Iterable, List

from bot.config import PROJECT_ROOT

MODEL_DIR = PROJECT_ROOT / "models"
MODEL_NAME = "support"
MODEL_PATH = MODEL_DIR / f"{MODEL_NAME}.tar.gz"
FINGERPRINT_PATH = MODEL_DIR / f"{MODEL_NAME}.fingerprint"
# The encoder's SOURCE.json names the wheel its files came from.
INPUTS = [
    "config.yml",
    "domain.yml",
    "data",
    "bot/nlu",
    "bot/policies",
    "bot/escalation.py",
    "models/encoder/all-MiniLM-L6-v2/SOURCE.json",
]


def _files(paths: Iterable[str]) -> List[Path]:
    found: List[Path] = []
    for name in paths:
        path = PROJECT_ROOT / name
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
        elif path.exists():
            found.append(path)
    return found


def fingerprint() -> str:
    digest = hashlib.sha256()
    for path in _files(INPUTS):
        digest.update(str(path.relative_to(PROJECT_ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def is_current() -> bool:
    return MODEL_PATH.exists() and FINGERPRINT_PATH.exists() and FINGERPRINT_PATH.read_text().strip() == fingerprint()


def train(force: bool = False) -> Path:
    """Trains into models/support.tar.gz unless the existing model is current."""
    if not force and is_current():
        print(f"Model is up to date: {MODEL_PATH.relative_to(PROJECT_ROOT)}")
        return MODEL_PATH
    print("Training the Rasa model (about a minute)...", flush=True)
    MODEL_DIR.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        "-m",
        "rasa",
        "train",
        "--config",
        "config.yml",
        "--domain",
        "domain.yml",
        "--data",
        "data",
        "--out",
        str(MODEL_DIR),
        "--fixed-model-name",
        MODEL_NAME,
        "--force",
    ]
    subprocess.run(command, cwd=PROJECT_ROOT, check=True)
    FINGERPRINT_PATH.write_text(fingerprint() + "\n")
    return MODEL_PATH
