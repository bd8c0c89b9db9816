"""One place per concept: vendor names live in their own folders, the registries, config, seeds, benchmarks
and tests. Any other Python file, or a SQL model outside staging and the few models whose job is to combine
vendors, that names a vendor in code (not in a comment or docstring) fails here."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from pipelines.registry import DESTINATIONS, SOURCES
from simulator.vendors import NAMES as SANDBOX_VENDORS

pytestmark = pytest.mark.fast

ROOT = Path(__file__).resolve().parents[2]
VENDORS = sorted(set(SOURCES) | set(SANDBOX_VENDORS))
PATTERN = re.compile("|".join(VENDORS), re.IGNORECASE)
ALLOWED_PYTHON = ("sources/", "simulator/vendors/", "tests/", "benchmarks/", "pipelines/registry.py", ".venv/",
                  *(f"destinations/{name}/" for name in DESTINATIONS))
# The intermediate models whose job is to combine vendors (unions, identity edges, unified touches, reach).
COMBINING_MODELS = {"int_conversions__unioned", "int_identity__edges", "int_touches__unified",
                    "int_clickmagick__clicks", "int_spend__unioned", "int_quality_issues__unioned",
                    "int_exposure__unioned"}


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                ids.add(id(first.value))
    return ids


def _names_in_code(path: Path, root: Path = ROOT) -> list[str]:
    tree = ast.parse(path.read_text())
    skip = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        text = None
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            text = node.value
        elif isinstance(node, ast.Name):
            text = node.id
        elif isinstance(node, ast.Attribute):
            text = node.attr
        elif isinstance(node, ast.FunctionDef | ast.ClassDef | ast.AsyncFunctionDef | ast.alias):
            text = node.name
        if text and PATTERN.search(text):
            found.append(f"{path.relative_to(root)}:{getattr(node, 'lineno', '?')}: {text[:60]!r}")
    return found


def test_python_outside_vendor_folders_and_registries_names_no_vendor():
    offenders = []
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith(ALLOWED_PYTHON) or "/." in f"/{relative}":
            continue
        offenders += _names_in_code(path)
    assert not offenders, "\n".join(offenders)


def test_sql_names_vendors_only_in_staging_and_combining_models():
    """An outbox model (outbox_<destination>__<object>) may name its own destination, and no other vendor."""
    offenders = []
    for path in sorted((ROOT / "transforms" / "models").rglob("*.sql")):
        if path.parent.name == "staging" or path.stem in COMBINING_MODELS:
            continue
        own = path.stem.removeprefix("outbox_").split("__")[0] if path.parent.name == "outbox" else None
        code = "\n".join(re.sub(r"--.*$", "", line) for line in path.read_text().splitlines())
        code = re.sub(r"\{#.*?#\}", "", code, flags=re.DOTALL)
        offenders += [f"{path.relative_to(ROOT)}: {m.group(0)}" for m in PATTERN.finditer(code)
                      if m.group(0).lower() != own]
    assert not offenders, "\n".join(offenders)


def test_the_guard_sees_a_vendor_name_in_code(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text('"""Docstrings may say ClickMagick."""\nVENDOR = "clickmagick"  # comments may too\n')
    assert _names_in_code(sample, tmp_path) == ["sample.py:2: 'clickmagick'"]
