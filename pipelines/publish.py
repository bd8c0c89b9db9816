"""Publish the marts for readers after a successful build: a read-only DuckDB snapshot and one Parquet
file per mart, each swapped in atomically.

Readers (BI tools, the dashboard, an analyst's CLI) open the published copy, never the warehouse, so a
reader never blocks a run and a run never breaks a reader: the snapshot is written under a temporary
name and renamed over the old one (a reader holding the old file keeps reading it; a new connection sees
the new one), and `parquet/` is a symlink flipped to a new directory of files.

    <publish dir>/snapshot.duckdb          schema `marts` with the dbt docs as table and column comments
    <publish dir>/parquet/<mart>.parquet
    <publish dir>/dashboard.html           the dashboard of that snapshot (dashboard/), swapped in with it
    <publish dir>/.published.json          which build of the warehouse it holds (`is_current`)
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from pipelines.transform import last_build_id
from warehouse import Warehouse, as_warehouse, literal, quote
from warehouse.extensions import ensure_extensions
from warehouse.publication import MARTS_SCHEMA, PARQUET, SNAPSHOT, resolve_publish_dir
from warehouse.spark_reader import copy_tables

MARKER = ".published.json"  # which build the publication holds, beside it
DASHBOARD = "dashboard.html"  # the page of the snapshot (dashboard/), rebuilt by every publication


@dataclass
class PublishResult:
    status: str  # "published" or "failed"
    seconds: float
    path: str  # the snapshot file readers open
    rows: dict[str, int] = field(default_factory=dict)
    detail: str = ""


def publish(warehouse: Warehouse | str | os.PathLike[str],
            target: str | os.PathLike[str] | None = None) -> PublishResult:
    """Copy every table of the warehouse's `marts` schema, with its comments, into a new snapshot and new
    Parquet files, then swap both in. Raises on failure; the previous publication stays in place."""
    started = time.monotonic()
    directory = resolve_publish_dir(warehouse, target)
    directory.mkdir(parents=True, exist_ok=True)
    generation = f"{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{uuid.uuid4().hex[:8]}"
    snapshot_tmp = directory / f".{SNAPSHOT}.{generation}.tmp"
    dashboard_tmp = directory / f".{DASHBOARD}.{generation}.tmp"
    parquet_dir = directory / f".{PARQUET}-{generation}"
    parquet_dir.mkdir()
    source = as_warehouse(warehouse)
    try:
        rows, build = _write_snapshot(source, snapshot_tmp, parquet_dir)
        # The page of this snapshot, written before anything is swapped: a publication never has a stale page.
        # Imported here: its pandas and Plotly (~30 MiB) are not the runner's while dbt builds.
        from dashboard import build as build_dashboard

        build_dashboard(snapshot_tmp, dashboard_tmp, label=directory / SNAPSHOT,
                        duckdb_config=source.duckdb_settings())
        _swap_symlink(directory / PARQUET, parquet_dir.name)
        os.replace(snapshot_tmp, directory / SNAPSHOT)
        os.replace(dashboard_tmp, directory / DASHBOARD)
    except BaseException:
        snapshot_tmp.unlink(missing_ok=True)
        dashboard_tmp.unlink(missing_ok=True)
        shutil.rmtree(parquet_dir, ignore_errors=True)
        raise
    staged = directory / f"{MARKER}.{generation}.tmp"  # after the swap: a marker never names a build not in place
    staged.write_text(json.dumps({"build": build, "published_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}))
    os.replace(staged, directory / MARKER)
    _remove_old_generations(directory, keep=parquet_dir.name)
    return PublishResult("published", time.monotonic() - started, str(directory / SNAPSHOT), rows,
                         f"{len(rows)} marts -> {directory / SNAPSHOT}, {directory / PARQUET}/ and "
                         f"{directory / DASHBOARD}")


def is_current(warehouse: Warehouse | str | os.PathLike[str], target: str | os.PathLike[str] | None = None) -> bool:
    """Whether the publication holds the warehouse's last successful build: a build whose publication failed
    (a full disk) is published by the next run, even one that builds nothing."""
    directory = resolve_publish_dir(warehouse, target)
    try:
        published = json.loads((directory / MARKER).read_text()).get("build")
    except (OSError, ValueError):
        published = None
    if not (directory / SNAPSHOT).exists():
        return False
    with as_warehouse(warehouse).connect(read_only=True) as con:
        built = last_build_id(con)
    return built is None or published == built  # no build recorded (built by hand): what is there stands


def _write_snapshot(warehouse: Warehouse, snapshot: Path, parquet_dir: Path) -> tuple[dict[str, int], str | None]:
    """The marts into `snapshot` and Parquet files; which build they are."""
    rows: dict[str, int] = {}
    # Within the warehouse's memory limit, as its loads and builds: unbounded, DuckDB kept the copy's blocks in its
    # buffer pool (scale 1350: 2.6 GiB for 12.5M attribution rows).
    with duckdb.connect(str(snapshot), config=warehouse.duckdb_settings()) as con:
        con.execute(f"create schema {MARTS_SCHEMA}")
        tables, build = _copy_spark_marts(warehouse, con) if warehouse.is_spark else _copy_marts(warehouse, con)
        if not tables:
            raise RuntimeError(f"{warehouse.label()} has no {MARTS_SCHEMA} tables to publish (has dbt built them?)")
        for table in tables:
            name = f"{MARTS_SCHEMA}.{quote(table)}"
            rows[table] = con.execute(f"select count(*) from {name}").fetchone()[0]
            con.execute(f"copy {name} to {literal(str(parquet_dir / f'{table}.parquet'))} (format parquet)")
        con.execute("checkpoint")
    return rows, build


def _copy_marts(warehouse: Warehouse, con: duckdb.DuckDBPyConnection) -> tuple[list[str], str | None]:
    """A DuckDB warehouse's marts (a file or a DuckLake, attached), with their comments; the build they are."""
    ensure_extensions(warehouse.extensions())
    con.execute(warehouse.attach_sql("warehouse", read_only=True))
    build = last_build_id(con, "warehouse")
    # a mart may be a view over tables (`attribution`): readers get it as a table
    marts = dict(con.execute(
        "select table_name, comment from duckdb_tables() where database_name = 'warehouse' and schema_name = $1 "
        "union all select view_name, comment from duckdb_views() where database_name = 'warehouse' "
        "and schema_name = $1 order by 1", [MARTS_SCHEMA]).fetchall())
    for table in marts:
        name = f"{MARTS_SCHEMA}.{quote(table)}"
        con.execute(f"create table {name} as select * from warehouse.{name}")
    _copy_comments(con, marts)
    con.execute("detach warehouse")
    return list(marts), build


def _copy_spark_marts(warehouse: Warehouse, con: duckdb.DuckDBPyConnection) -> tuple[list[str], None]:
    """A Spark warehouse's marts, read through its cluster, with the comments dbt wrote to its catalog. A Spark
    build records no build id: each build there is published."""
    return copy_tables(warehouse.spark_conf(), MARTS_SCHEMA, con), None


def _copy_comments(con: duckdb.DuckDBPyConnection, marts: dict[str, str | None]) -> None:
    """dbt persists the model and column descriptions as comments (persist_docs); carry them over (`marts`: each
    mart's own comment)."""
    for table, comment in marts.items():
        if comment is not None:
            con.execute(f"comment on table {MARTS_SCHEMA}.{quote(table)} is {literal(comment)}")
    for table, column, comment in con.execute(
            "select table_name, column_name, comment from duckdb_columns() where database_name = 'warehouse' "
            "and schema_name = ? and comment is not null", [MARTS_SCHEMA]).fetchall():
        con.execute(f"comment on column {MARTS_SCHEMA}.{quote(table)}.{quote(column)} is {literal(comment)}")


def _swap_symlink(link: Path, target_name: str) -> None:
    if link.exists() and not link.is_symlink():
        raise RuntimeError(f"{link} is a real directory; publishing owns it as a symlink (move it away)")
    staged = link.with_name(f".{link.name}.{uuid.uuid4().hex[:8]}.link")
    staged.symlink_to(target_name)
    os.replace(staged, link)  # rename(2) over the old link: readers see the old or the new, never none


def _remove_old_generations(directory: Path, keep: str) -> None:
    """Earlier Parquet directories and snapshots left by a publication that died halfway. A reader that
    still has one of their files open keeps it until it closes (unlinked files live on)."""
    for stale in directory.glob(f".{PARQUET}-*"):
        if stale.name != keep:
            shutil.rmtree(stale, ignore_errors=True)
    for stale in [*directory.glob(f".{SNAPSHOT}.*.tmp"), *directory.glob(f".{DASHBOARD}.*.tmp"),
                  *directory.glob(f".{PARQUET}.*.link")]:
        stale.unlink(missing_ok=True)
