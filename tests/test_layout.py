"""The layout stays readable: packages by pipeline stage, no module over MAX_LINES lines, and no import cycle
among the project's modules (imports inside functions and under `if TYPE_CHECKING:` count too: a cycle
deferred or kept to the type checker is still two modules that cannot be read apart)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAX_LINES = 400
STAGES = ("ingest", "index", "answer", "serve")


def _modules() -> dict[str, Path]:
    found = {}
    for top in ("assistant", "ui"):
        for path in sorted((ROOT / top).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _imports(path: Path, name: str, known: set[str]) -> set[str]:
    """The project modules a module imports anywhere in its body (`from a.b import c` counts a.b.c when that
    is a module, else a.b)."""
    out = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name in known}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            for alias in node.names:
                if f"{base}.{alias.name}" in known:
                    out.add(f"{base}.{alias.name}")
                elif base in known:
                    out.add(base)
    out.discard(name)
    return out


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_no_module_is_over_the_line_limit():
    long = {name: n for name, path in _modules().items()
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}


def test_no_import_cycle_among_the_projects_modules():
    modules = _modules()
    # Parent packages are not edges: importing assistant.answer.x runs assistant/__init__ first, which imports
    # nothing of the project.
    graph = {name: {m for m in _imports(path, name, set(modules))} for name, path in modules.items()}
    assert _cycles(graph) == []


def test_the_assistant_package_is_laid_out_by_pipeline_stage():
    packages = {p.name for p in (ROOT / "assistant").iterdir() if (p / "__init__.py").exists()}
    assert set(STAGES) <= packages
    # the stage packages hold the modules; at the top only the command line, settings, errors and the
    # evaluation runner remain
    top = {p.stem for p in (ROOT / "assistant").glob("*.py")} - {"__init__", "__main__"}
    assert top <= {"cli", "config", "errors", "evaluation", "output"}


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
