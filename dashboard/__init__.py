"""The browser dashboard: one self-contained HTML file built from the published marts (pipelines/publish.py)."""

from __future__ import annotations

from pathlib import Path

from dashboard.data import load
from dashboard.page import render
from pipelines.transform import attribution_models


def build(snapshot: str | Path, out: str | Path) -> Path:
    """Write the dashboard for `snapshot` to `out` (atomically: a browser never sees half a file)."""
    data = load(snapshot)
    data_driven = attribution_models().get("data_driven") or [None]
    page = render(data, default_model=data_driven[0])
    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = target.with_name(f".{target.name}.tmp")
    staged.write_text(page, encoding="utf-8")
    staged.replace(target)
    return target
