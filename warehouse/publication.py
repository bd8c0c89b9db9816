"""Where readers find the warehouse's marts: the publication the runner writes after each good build
(`pipelines/publish.py`) and every reader (the dashboard, BI tools) opens. Resolved in one place, so the
writer and its readers agree.

    <publish dir>/snapshot.duckdb          schema `marts` with the dbt docs as table and column comments
    <publish dir>/parquet/<mart>.parquet
"""

from __future__ import annotations

import os
from pathlib import Path

import dlt

from warehouse.kinds import Warehouse, as_warehouse

SNAPSHOT = "snapshot.duckdb"  # not marts.duckdb: its catalog would be "marts", as ambiguous as the schema
PARQUET = "parquet"
MARTS_SCHEMA = "marts"


def default_publish_dir(warehouse: Warehouse | str | os.PathLike[str]) -> Path:
    """`<dir>/<name>_published/` beside the warehouse file (or a DuckLake's local catalog file): keyed on its
    name, so two warehouses never publish over each other; `<lake name>_published/` in the current
    directory for a DuckLake with a server catalog (Postgres, MotherDuck)."""
    wh = as_warehouse(warehouse)
    if wh.is_remote:
        return Path.cwd() / f"{wh.name}_published"
    return wh.path.with_name(f"{wh.path.stem}_published")


def configured_publish_dir() -> str | None:
    """`[publish] path` in .dlt/config.toml, or PUBLISH__PATH in the environment."""
    return dlt.config.get("publish.path", str)


def resolve_publish_dir(warehouse: Warehouse | str | os.PathLike[str],
                        target: str | os.PathLike[str] | None = None) -> Path:
    """Where the warehouse's marts are published: `target` (e.g. --publish-dir), else `[publish] path`, else
    beside the warehouse. The runner and every reader resolve it here, so they agree."""
    chosen = target or configured_publish_dir()
    return Path(chosen) if chosen else default_publish_dir(warehouse)
