"""The browser dashboard: one self-contained HTML file built from the published marts (warehouse/publication.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dashboard.data import SnapshotError, load
from dashboard.page import render
from warehouse.project import default_model

__all__ = ["SnapshotError", "build"]


def build(snapshot: str | Path, out: str | Path, label: str | Path | None = None,
          duckdb_config: dict[str, Any] | None = None) -> Path:
    """Write the dashboard for `snapshot` to `out` (atomically: a browser never sees half a file); the page names
    the snapshot as `label` when given (the publish step builds from the copy it is about to swap in, within the
    warehouse's DuckDB settings: `duckdb_config`)."""
    data = load(snapshot, label, duckdb_config)
    page = render(data, default_model=default_model())
    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = target.with_name(f".{target.name}.tmp")
    staged.write_text(page, encoding="utf-8")
    staged.replace(target)
    return target
