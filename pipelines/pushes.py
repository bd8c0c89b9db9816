"""The push step: each configured destination's outboxes to its vendor (destinations/), one after another.

Settings come like the sources': `[destinations.<name>]` in .dlt/config.toml, secrets in secrets.toml, any
key overridable as DESTINATIONS__<NAME>__<KEY>. A destination at a loopback URL without secrets gets the
sandbox's public ones (`[sandbox.<name>]`), as sources do.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dlt
import duckdb

from destinations.common.push import OUTBOX_SCHEMA, DestinationResult, push
from pipelines.errors import describe
from pipelines.registry import DESTINATIONS
from pipelines.vendors import LOOPBACK
from warehouse import Warehouse
from warehouse.spark_reader import copy_tables


class DestinationConfigError(ValueError):
    pass


def pushes_enabled() -> bool:
    """`[destinations] enabled = false` (or DESTINATIONS__ENABLED=false) turns the push step off, e.g. for a
    staging copy of the job that must not write to the vendors; `--push-only` still pushes."""
    return dlt.config.get("destinations.enabled", bool) is not False


def env_key(name: str, key: str) -> str:
    return f"DESTINATIONS__{name.upper()}__{key.upper()}"


def settings(name: str) -> dict[str, Any]:
    spec = DESTINATIONS[name]
    values: dict[str, Any] = {key: dlt.config.get(f"destinations.{name}.{key}", kind)
                              for key, kind in spec.settings.items()}
    values.update({key: dlt.secrets.get(f"destinations.{name}.{key}") for key in spec.secrets})
    base_url = values.get("base_url") or ""
    if urlsplit(str(base_url)).hostname in LOOPBACK:  # the sandbox: its public credentials if none are set
        for key in spec.secrets:
            if values.get(key) is None:
                values[key] = dlt.config.get(f"sandbox.{name}.{key}")
    missing = [key for key in ("base_url", *spec.secrets) if not values.get(key)]
    if missing:
        raise DestinationConfigError(
            f"{name}: {', '.join(missing)} not configured ([destinations.{name}] in .dlt/config.toml or "
            f"secrets.toml, or {', '.join(env_key(name, k) for k in missing)})")
    return values


def run_pushes(warehouse: Warehouse, names: list[str] | None = None, dry_run: bool = False) -> list[DestinationResult]:
    names = names or list(DESTINATIONS)
    if warehouse.is_spark:
        started = time.monotonic()
        try:
            copy_spark_outboxes(warehouse)
        except Exception as exc:  # nothing is pushed, nothing recorded: the next run copies and pushes again
            return [DestinationResult(name, "failed", time.monotonic() - started,
                                      error=describe(exc, name)) for name in names]
    results = []
    for name in names:
        started = time.monotonic()
        try:
            config = settings(name)
            with push_connection(warehouse, read_only=dry_run) as con:
                results.append(push(DESTINATIONS[name], config, con, journal_dir(warehouse), dry_run=dry_run))
        except Exception as exc:  # one destination failing must not stop the others
            results.append(DestinationResult(name, "failed", time.monotonic() - started, error=describe(exc, name)))
    return results


def push_connection(warehouse: Warehouse, read_only: bool) -> duckdb.DuckDBPyConnection:
    """Where the push reads the outboxes and keeps its ledger: the warehouse itself (a DuckDB file or lake), or,
    for a Spark lake (plain Parquet: no updates in place), a DuckDB file of this machine's push state, beside the
    journals, holding the ledger and the outboxes copied from the cluster (copy_spark_outboxes)."""
    if warehouse.is_spark:
        return duckdb.connect(str(spark_push_state(warehouse)), read_only=read_only)
    return warehouse.connect(read_only=read_only)


def spark_push_state(warehouse: Warehouse) -> Path:
    return Path(warehouse.pipelines_dir()) / "push-state.duckdb"


def copy_spark_outboxes(warehouse: Warehouse) -> None:
    """The outbox tables dbt built on Spark, read through the cluster, replace the push state's copy whole, in one
    transaction (a copy cut short leaves the previous one; an outbox gone from Spark is gone from the copy)."""
    path = spark_push_state(warehouse)
    path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(path)) as con:
        con.execute("begin")
        con.execute(f"drop schema if exists {OUTBOX_SCHEMA} cascade")
        con.execute(f"create schema {OUTBOX_SCHEMA}")
        copy_tables(warehouse.spark_conf(), OUTBOX_SCHEMA, con)
        con.execute("commit")


def journal_dir(warehouse: Warehouse) -> Path:
    """This machine's push journals for the warehouse, beside dlt's working state."""
    return Path(warehouse.pipelines_dir()) / "push-journal"


def use_sandbox_destinations(base_url: str) -> None:
    """Point every destination at a sandbox in this process (the demo, benchmarks)."""
    for name in DESTINATIONS:
        os.environ[env_key(name, "base_url")] = f"{base_url.rstrip('/')}/{name}"
