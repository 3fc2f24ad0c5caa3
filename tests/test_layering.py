"""The package stays layered (DESIGN §8): no import cycle between modules, and the storage layer
imports nothing from the layers built on it. Module-level imports only, type-checking ones included
(a cycle only a type checker sees is still two modules that cannot be understood apart): an import
inside a function is how a lower layer reaches an optional or heavy higher one, on purpose."""

from __future__ import annotations

import ast
from pathlib import Path

LIB = Path(__file__).resolve().parents[1] / "lib"
# store/ is the bottom layer of the artifacts: nothing above it may be imported by it
ABOVE_STORE = ("ops", "gc", "sources", "route", "risk", "report", "ingest", "backfill", "views", "api", "console")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(LIB).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def module_imports() -> dict[str, set[str]]:
    """Every arcticroute module and the arcticroute modules it imports at module level."""
    paths = {module_name(p): p for p in (LIB / "arcticroute").rglob("*.py")}
    graph = {}
    for name, path in paths.items():
        package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        found = set()
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            for statement in ast.walk(node) if isinstance(node, (ast.If, ast.Try)) else [node]:
                if isinstance(statement, ast.ImportFrom):
                    base = package[: len(package) - statement.level + 1] if statement.level else []
                    target = ".".join(base + ([statement.module] if statement.module else []))
                    for alias in statement.names:
                        found.add(f"{target}.{alias.name}" if f"{target}.{alias.name}" in paths else target)
                elif isinstance(statement, ast.Import):
                    found.update(alias.name for alias in statement.names)
        graph[name] = {d for d in found if d in paths and d != name}
    return graph


def test_no_module_imports_itself_back_through_others():
    graph = module_imports()
    assert len(graph) > 50 and "arcticroute.store.artifacts" in graph["arcticroute.store.catalog"]
    state: dict[str, int] = {}
    cycles = []

    def visit(module: str, trail: list[str]) -> None:
        state[module] = 1
        for dependency in sorted(graph[module]):
            if state.get(dependency) == 1:
                cycles.append(" -> ".join(trail[trail.index(dependency):] + [module, dependency])
                              if dependency in trail else f"{module} -> {dependency}")
            elif dependency not in state:
                visit(dependency, trail + [module])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [])
    assert cycles == []


def test_the_storage_layer_imports_nothing_built_on_it():
    upward = {module: sorted(d for d in deps if d.split(".")[1] in ABOVE_STORE)
              for module, deps in module_imports().items() if module.startswith("arcticroute.store")}
    assert {module: deps for module, deps in upward.items() if deps} == {}
