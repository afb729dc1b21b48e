"""The layers of docs/architecture.md, held against the code's own imports.

Read from the source (every ``import trygg.x`` and ``from trygg.x import``, lazy ones inside
functions included), so a shortcut taken in a hurry fails here rather than in a review.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "trygg"

#: What the engine may never reach for: adapters, runners, storage, outputs, the lab.
ADAPTERS = {"api", "web", "cli", "commands", "scan", "cluster", "compose", "store", "cases", "reports", "lab", "demo", "sinks", "shadow"}


def _imports() -> dict[str, set[str]]:
    """Top-level unit (package or module of trygg) -> the trygg units it imports."""
    edges: dict[str, set[str]] = defaultdict(set)
    for path in PACKAGE.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        unit = path.relative_to(PACKAGE).with_suffix("").parts[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [node.module] if isinstance(node, ast.ImportFrom) and node.module else []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            for name in names:
                if name.startswith("trygg.") and (target := name.split(".")[1]) != unit:
                    edges[unit].add(target)
    return edges


def _module_imports() -> dict[str, set[str]]:
    """Module (``trygg.engine``, ``trygg.media.errors``) -> the trygg modules it imports."""
    modules = {
        ".".join(("trygg", *path.relative_to(PACKAGE).with_suffix("").parts)).removesuffix(".__init__"): path
        for path in PACKAGE.rglob("*.py")
        if "migrations" not in path.parts
    }
    edges: dict[str, set[str]] = defaultdict(set)
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("trygg"):
                for alias in node.names:  # ``from trygg.a import b`` names module trygg.a.b if there is one
                    sub = f"{node.module}.{alias.name}"
                    edges[name].add(sub if sub in modules else node.module)
            elif isinstance(node, ast.Import):
                edges[name].update(alias.name for alias in node.names if alias.name.startswith("trygg"))
    return edges


def _reaches(edges: dict[str, set[str]], start: str, goal: str) -> bool:
    seen, stack = set(), [start]
    while stack:
        node = stack.pop()
        if node == goal:
            return True
        if node not in seen:
            seen.add(node)
            stack.extend(edges.get(node, ()))
    return False


def test_no_import_circle_between_packages() -> None:
    edges = _imports()
    circles = sorted((a, b) for a, targets in edges.items() for b in targets if _reaches(edges, b, a))
    assert circles == []


def test_the_engine_imports_no_adapter() -> None:
    """Nothing the engine imports, however indirectly, is an adapter, storage or an output."""
    edges = _module_imports()
    seen, stack = set(), ["trygg.engine"]
    while stack:
        module = stack.pop()
        if module not in seen:
            seen.add(module)
            stack.extend(edges.get(module, ()))
    reached = sorted(m for m in seen if m.split(".")[1:2] and m.split(".")[1] in ADAPTERS)
    assert reached == []


def test_the_runtime_never_imports_the_lab() -> None:
    edges = _imports()
    importers = sorted(unit for unit, targets in edges.items() if "lab" in targets)
    assert set(importers) <= {"cli", "commands"}, importers


def test_storage_is_below_everything() -> None:
    assert _imports()["store"] <= {"events", "decision"}


def test_the_check_sees_imports() -> None:
    """The reader is not blind: the engine's own imports are there."""
    assert {"policy", "conversation", "signals"} <= _imports()["engine"]
    assert "trygg.media.errors" in _module_imports()["trygg.engine"]
