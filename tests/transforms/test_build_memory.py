"""What a daily build leaves in dbt's DuckDB between models (macros/release_build_memory.sql): while the warehouse's
data fit in `memory_limit` dbt keeps one DuckDB connection for the whole build (past it, one per node:
Warehouse.dbt_keep_open), so whatever a model leaves on it stays until the build ends. A daily build at
scale 1350 peaked 0.4 GiB over its first run's build (2026-12-06) from two such leftovers: the temporary tables
dbt-duckdb's incremental materialization never drops (one per person-local model, the `attribution` mart's of
every data-driven credit), and the marks of rows deleted, which DuckDB holds outside `memory_limit` until a
checkpoint while dbt's DuckDB checkpoints only on close (transforms/profiles.yml)."""

from __future__ import annotations

import re

import duckdb

from pipelines.fingerprint import table_fingerprints
from pipelines.transform import last_run_results
from tests.warehouse import dbt, dbt_log, logged_statements
from warehouse import Warehouse

# a person-local incremental model (dbt-duckdb's incremental) and a diffed table, with what they read
MODELS = ["int_journeys__assembled", "int_touches__classified"]


def statements(warehouse, model: str) -> list[str]:
    return logged_statements(dbt_log(warehouse).read_text(), f"model.attribution.{model}")


def checkpoints(sql: str) -> bool:
    return re.search(r"^\s*checkpoint\b", sql, re.MULTILINE) is not None


def checkpoints_with_empty_buffer_pool(sql: str) -> bool:
    """A checkpoint reads every table's version info (outside `memory_limit`): DuckDB's buffer pool is emptied
    before it (a low limit) and the profile's limit set back after, in that order."""
    found = re.search(r"set memory_limit = '64MB';\s*checkpoint \S+;\s*set memory_limit = '[^']+';", sql)
    return found is not None


def built_incrementally(warehouse, threads: int) -> None:
    done = dbt(Warehouse(str(warehouse), threads=threads), "run", "--select", *MODELS)
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_model_drops_its_temporary_tables_and_checkpoints_after_deleting_when_built_alone(full_run, tmp_path):
    warehouse = full_run.copy_to(tmp_path)
    built_incrementally(warehouse, threads=1)
    for model in MODELS:
        ran = statements(warehouse, model)
        created = {name.rsplit(".", 1)[-1] for sql in ran
                   for name in re.findall(r'create (?:or replace )?temp(?:orary)? table\s+"?([\w.]+?)"?\s', sql)}
        assert created, (model, ran)  # the incremental paths ran
        dropped = {name for sql in ran for name in re.findall(r'drop table if exists (?:temp\.main\.)?"?(\w+)"?', sql)}
        assert created <= dropped, (model, created - dropped)
        deleted = max(i for i, sql in enumerate(ran) if sql.startswith("delete from"))
        assert any(checkpoints_with_empty_buffer_pool(sql) for sql in ran[deleted:]), (model, ran[deleted:])
    # side by side, another model's transaction may be open: a checkpoint would fail (the data are small there)
    built_incrementally(warehouse, threads=2)
    log = dbt_log(warehouse).read_text()
    last = log[log.rindex("Concurrency: 2 threads"):]
    for model in MODELS:
        ran = logged_statements(last, f"model.attribution.{model}")
        assert any("drop table if exists" in sql for sql in ran), (model, ran)
        assert not any(checkpoints(sql) for sql in ran), (model, ran)


def test_a_build_that_opens_the_warehouse_for_each_node_builds_the_same_tables(full_run, tmp_path):
    """Past `memory_limit` dbt opens the warehouse anew for each node (Warehouse.dbt_keep_open): nothing a node
    builds may depend on what an earlier node left on the connection (a temporary table, a setting), and the
    incremental paths must find their state in the file. The test world is small, so it keeps the file open unless
    told otherwise: its daily-path build, told, passes every test and leaves the tables it found."""
    warehouse = full_run.copy_to(tmp_path)
    marts = ["marts", "outbox"]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        before = table_fingerprints(con, marts)
    reopened = Warehouse(str(warehouse), keep_open=False, threads=1)  # as past `memory_limit` (Warehouse.dbt_threads)
    assert reopened.dbt_env()["DBT_DUCKDB_KEEP_OPEN"] == "False"
    done = dbt(reopened, "build", "--exclude-resource-type", "unit_test")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert table_fingerprints(con, marts) == before
    # the file closes after each node, with a checkpoint: each model's own, once the buffer pool is emptied (a
    # table rebuilt whole, a view, a Python model and a person-local incremental model alike)
    for model in ["int_spend__daily", "attribution", "int_channel_weights__markov",
                  "int_attribution__heuristic_joined"]:
        ran = statements(warehouse, model)
        assert any(checkpoints_with_empty_buffer_pool(sql) for sql in ran), (model, ran[-3:])
    # and before each open, the C heap returns what the closed DuckDB freed (transforms/plugins/duckdb_heap.py):
    # glibc kept it (the version info a checkpoint reads, ~0.5 GiB at scale 1350) while the next node's DuckDB
    # allocated its buffer pool anew, a diffed table after a table peaking at 1,312 MiB against 853
    nodes = len(last_run_results(reopened)["results"])
    assert dbt_log(warehouse).read_text().count("C heap trimmed before opening the warehouse") >= nodes > 150
