"""The floors of the house: each package imports only packages on lower floors (or itself), and no file imports
itself back through others. Read from the code's own imports (every `import`, also inside functions and under
TYPE_CHECKING), so a new arrow up or a new circle fails here, in seconds."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.fast

ROOT = Path(__file__).resolve().parents[2]
# Lowest first. A package may import its own modules and those of any lower floor, never of its floor or above.
FLOORS: tuple[frozenset[str], ...] = (
    frozenset({"dlt_adapter", "attribution", "simulator"}),  # dlt's internals; algorithms; the vendors' sandbox
    frozenset({"warehouse", "vendor_http"}),  # the warehouse and its settings; the one HTTP client
    frozenset({"sources", "destinations", "dashboard", "transforms"}),  # what reads, writes and shows
    frozenset({"pipelines"}),  # the runner, the demo
    frozenset({"benchmarks", "orchestration"}),  # measurements; the Dagster assets
)
FLOOR = {package: level for level, packages in enumerate(FLOORS) for package in packages}


def project_files() -> dict[str, Path]:
    """Module name -> file, for every Python file of the project's packages (tests and the venv left out)."""
    modules = {}
    for package in FLOOR:
        for path in (ROOT / package).rglob("*.py"):
            if {"target", "dbt_packages", "__pycache__"}.isdisjoint(path.parts):
                parts = path.relative_to(ROOT).with_suffix("").parts
                modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def imports(path: Path, module: str, is_package: bool, known: set[str]) -> set[str]:
    """The project modules `path` imports (the longest known prefix of each name it imports)."""
    found = set()
    base = module.split(".") if is_package else module.split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            prefix = ".".join(base[:len(base) - node.level + 1]) if node.level else ""
            stem = ".".join(filter(None, [prefix, node.module]))
            names = [f"{stem}.{alias.name}" for alias in node.names]  # a submodule, or a name of module `stem`
        else:
            continue
        for name in names:
            parts = name.split(".")
            match = next((".".join(parts[:n]) for n in range(len(parts), 0, -1) if ".".join(parts[:n]) in known), None)
            if match is not None and match != module:
                found.add(match)
    return found


def graph() -> dict[str, set[str]]:
    files = project_files()
    known = set(files)
    return {module: imports(path, module, path.name == "__init__.py", known) for module, path in files.items()}


def test_every_package_has_a_floor():
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"tests"}
    assert packages <= set(FLOOR), f"packages without a floor in FLOORS: {sorted(packages - set(FLOOR))}"


def test_no_package_imports_one_on_its_floor_or_above():
    upward = sorted((module, target) for module, targets in graph().items() for target in targets
                    if (a := module.split(".")[0]) != (b := target.split(".")[0]) and FLOOR[b] >= FLOOR[a])
    assert not upward, "imports that do not point down a floor:\n" + "\n".join(f"  {a} -> {b}" for a, b in upward)


def test_no_circle_of_imports():
    edges, state, circles = graph(), {}, []

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        for target in sorted(edges.get(module, ())):
            if state.get(target) == "open":
                circles.append([*path[path.index(target):], target])
            elif target not in state:
                visit(target, [*path, target])
        state[module] = "done"

    for module in sorted(edges):
        if module not in state:
            visit(module, [module])
    assert not circles, "circles:\n" + "\n".join("  " + " -> ".join(c) for c in circles)


def test_the_check_sees_an_upward_import_and_a_circle(tmp_path):
    """The reader itself: a lower package naming a higher one, and two files importing each other, are found."""
    (tmp_path / "a.py").write_text("from warehouse import kinds\nimport pipelines.run\n")
    assert imports(tmp_path / "a.py", "warehouse.a", False, {"warehouse.kinds", "pipelines.run", "warehouse.a"}) \
        == {"warehouse.kinds", "pipelines.run"}
    (tmp_path / "b.py").write_text("from . import c\nfrom .c import thing\n")
    assert imports(tmp_path / "b.py", "simulator.b", False, {"simulator.c", "simulator.b"}) == {"simulator.c"}
