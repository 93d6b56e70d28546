"""How a setting is declared: once, with its parser and default; a group with its prefix."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Callable

PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent


def setting(parse: Callable[[str], Any], default: Any) -> Any:
    """Declares a setting once: its parser and default (the variable's name comes from the field)."""
    return dataclasses.field(default=default, metadata={"parse": parse})


def group(cls: type, prefix: str) -> Any:
    """A group of settings; its variables are BOT_ + prefix + the field's name in capitals."""
    return dataclasses.field(default_factory=cls, metadata={"group": prefix})
