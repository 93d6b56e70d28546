"""The layout docs/architecture.md draws holds: no import cycle between packages (a
module's imports at any depth count, lazy ones included), and no module over 300 lines."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path
from typing import Dict, List, Set

from bot.config import PROJECT_ROOT

MAX_LINES = 300
SOURCES = [p for top in ("bot", "actions") for p in (PROJECT_ROOT / top).rglob("*.py")
           if "migrations" not in p.parts]


def unit_of(module: str) -> str:
    """The package a module belongs to: `bot.hub.routing` -> `bot.hub`, `actions.x` -> `actions`."""
    parts = module.split(".")
    return "actions" if parts[0] == "actions" else ".".join(parts[:2])


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(PROJECT_ROOT).with_suffix("").parts).removesuffix(".__init__")


def imported(node: ast.AST) -> List[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
        if node.module == "bot":  # from bot import account_summary
            return [f"bot.{alias.name}" for alias in node.names]
        return [node.module]
    return []


def package_graph() -> Dict[str, Set[str]]:
    graph: Dict[str, Set[str]] = defaultdict(set)
    for path in SOURCES:
        source = unit_of(module_name(path))
        for node in ast.walk(ast.parse(path.read_text())):
            for name in imported(node):
                if name.split(".")[0] in ("bot", "actions") and unit_of(name) != source:
                    graph[source].add(unit_of(name))
    return graph


def cycles(graph: Dict[str, Set[str]]) -> List[List[str]]:
    """Strongly connected components of more than one package (Tarjan)."""
    index: Dict[str, int] = {}
    low: Dict[str, int] = {}
    stack: List[str] = []
    found: List[List[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in graph.get(node, ()):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in list(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle_between_packages():
    graph = package_graph()
    assert {"bot.hub", "bot.conversations", "bot.accounts", "actions"} <= set(graph)  # the walk saw them
    assert cycles(graph) == []


def test_the_cycle_check_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_lower_layers_never_import_the_upper_ones():
    graph = package_graph()
    for low in ("bot.db", "bot.config", "bot.accounts", "bot.conversations", "bot.nlu"):
        assert not graph.get(low, set()) & {"bot.hub", "bot.email", "bot.dunning", "actions"}, low
    # The Rasa server loads bot.nlu: from the accounts it takes only the pure identifiers,
    # never the tables (which would pull SQLAlchemy into it).
    taken = set()
    for path in SOURCES:
        if module_name(path).startswith("bot.nlu"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("bot.accounts"):
                    taken |= {f"{node.module}.{a.name}" if node.module == "bot.accounts" else node.module
                              for a in node.names}
    assert taken == {"bot.accounts.identifiers"}


def test_no_module_is_over_300_lines():
    long = {str(p.relative_to(PROJECT_ROOT)): n for p in SOURCES if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert long == {}
