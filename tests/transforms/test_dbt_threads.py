"""How many models dbt builds side by side. Models that share DuckDB's memory limit ran it out at scale 1350
(two or four at once); one at a time they spill. Whether the models themselves build in bounded memory is a
memory target, measured by `make bench ARGS="--only spill"` (benchmarks/spill.py), not asserted here."""

from __future__ import annotations

import os
import re

import duckdb
import pytest
import yaml

from warehouse import Warehouse
from warehouse.kinds import DEFAULT_MEMORY_LIMIT
from warehouse.project import TRANSFORMS


@pytest.mark.fast
def test_dbt_builds_models_side_by_side_while_the_warehouse_is_smaller_than_each_ones_share_of_the_limit(tmp_path):
    path = tmp_path / "w.duckdb"
    path.write_bytes(b"x" * 3_000_000)
    assert Warehouse(str(path), memory_limit="13MB").dbt_threads() == 4
    assert Warehouse(str(path), memory_limit="7MB").dbt_threads() == 2
    # Smaller than the limit, not than each model's share of it: at scale 450 a first build (a ~0.5 GB file) at
    # 512MB ran three models side by side out of memory.
    assert Warehouse(str(path), memory_limit="4MB").dbt_threads() == 1
    assert Warehouse(str(path), memory_limit="2MiB").dbt_threads() == 1
    assert Warehouse(str(path), memory_limit="2MB", threads=2).dbt_threads() == 2  # [warehouse] threads
    assert Warehouse(str(tmp_path / "new.duckdb"), memory_limit="1MB").dbt_threads() == 4
    assert Warehouse("ducklake:lake.ducklake", threads=4).dbt_threads() == 1


@pytest.mark.fast
def test_dbt_opens_the_warehouse_anew_for_each_node_once_its_data_pass_the_limit(tmp_path):
    """What DuckDB keeps of the tables a node touched stays outside `memory_limit` until the database closes, and
    grows with the data (a daily build at scale 450 sat 0.2-0.4 GiB higher between nodes with the file kept open):
    past the limit dbt opens the file for each node. The profile run by hand keeps it open (a small warehouse)."""
    path = tmp_path / "w.duckdb"
    path.write_bytes(b"x" * 3_000_000)
    assert Warehouse(str(path), memory_limit="4MB").dbt_env()["DBT_DUCKDB_KEEP_OPEN"] == "True"
    assert Warehouse(str(path), memory_limit="2MB").dbt_env()["DBT_DUCKDB_KEEP_OPEN"] == "False"
    assert Warehouse(str(path), memory_limit="2MB", keep_open=True).dbt_keep_open()  # [warehouse] keep_open
    assert not Warehouse(str(path), memory_limit="1GB", keep_open=False).dbt_keep_open()
    assert Warehouse(str(tmp_path / "new.duckdb"), memory_limit="1MB").dbt_keep_open()
    profile = yaml.safe_load((TRANSFORMS / "profiles.yml").read_text())["attribution"]["outputs"]["warehouse"]
    assert profile["keep_open"] == "{{ env_var('DBT_DUCKDB_KEEP_OPEN', 'True') | as_bool }}", profile


@pytest.mark.fast
def test_the_warehouses_size_is_its_data_not_the_free_blocks_a_rebuild_left(tmp_path):
    """A full rebuild leaves the old tables' blocks free in the file (DuckDB reuses them, the file does not shrink):
    at scale 45 the file was 332 MiB of which 143 free, and a daily build there ran models one at a time where the
    same data in a new file ran two. The size that decides is the data's, DuckDB's used blocks."""
    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create table kept as select range as id from range(10000)")
        con.execute("create table rebuilt as select range as id, md5(range::varchar) as text from range(300000)")
        con.execute("drop table rebuilt")
        con.execute("checkpoint")
    assert path.stat().st_size > 5_000_000  # the free blocks stay in the file
    assert Warehouse(str(path), memory_limit="10MB").dbt_threads() == 4  # its data: a few blocks
    with duckdb.connect(str(path)):  # a file another connection holds is measured by its size on disk
        assert Warehouse(str(path), memory_limit="10MB").dbt_threads() == 1


@pytest.mark.fast
def test_dbt_run_by_hand_has_the_warehouses_default_memory_limit_and_threads(monkeypatch, tmp_path):
    """The runner hands dbt `[warehouse] memory_limit` (DBT_DUCKDB_MEMORY_LIMIT) and DuckDB's threads for it; dbt
    run by hand falls back to the profile's own values, which must be those of the default limit."""
    profiles = (TRANSFORMS / "profiles.yml").read_text()
    fallbacks = set(re.findall(r"env_var\('DBT_DUCKDB_MEMORY_LIMIT', '([^']+)'\)", profiles))
    assert fallbacks == {DEFAULT_MEMORY_LIMIT}, fallbacks
    monkeypatch.setattr(os, "cpu_count", lambda: 64)  # the default's threads, on any machine
    threads = set(re.findall(r"env_var\('DBT_DUCKDB_THREADS', '([^']+)'\)", profiles))
    assert threads == {str(Warehouse(str(tmp_path / "w.duckdb")).duckdb_threads())}, threads


@pytest.mark.fast
def test_duckdb_gets_a_thread_per_core_while_its_limit_leaves_each_350_mb_in_the_build(monkeypatch, tmp_path):
    """At scale 1350 a model's CREATE TABLE ran out of memory at 512MB on 2 threads, and built on 1 (or on 2 at
    700MB): DuckDB's buffers grow with its threads, so a small limit gets fewer, on any machine."""
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    path = str(tmp_path / "w.duckdb")
    assert [Warehouse(path, memory_limit=limit).duckdb_threads() for limit in ("4GB", "1GB", "700MB", "512MB", "64MB")
            ] == [8, 2, 2, 1, 1]
    assert Warehouse(path, memory_limit="512MB").dbt_env()["DBT_DUCKDB_THREADS"] == "1"  # dbt's DuckDB too


@pytest.mark.fast
def test_loads_get_a_thread_per_256_mb_so_the_default_loads_on_two_cores(monkeypatch, tmp_path):
    """A load copies files and picks merge keys' newest rows with an aggregate that spills: at 512MB it peaked no
    higher on 2 threads than on 1 and loaded an export ~2 s faster of ~8, so the default limit that builds on one
    thread loads on both of a 2-core machine."""
    path = str(tmp_path / "w.duckdb")
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert Warehouse(path).destination().config_params["credentials"].global_config == \
        {"memory_limit": DEFAULT_MEMORY_LIMIT, "threads": 2}  # dlt's DuckDB in the loads
    assert Warehouse(path).dbt_env()["DBT_DUCKDB_THREADS"] == "1"  # and the build's, at the same limit
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    assert [Warehouse(path, memory_limit=limit).duckdb_settings()["threads"]
            for limit in ("4GB", "1GB", "700MB", "512MB", "256MB", "64MB")] == [8, 3, 2, 2, 1, 1]


@pytest.mark.fast
def test_dbt_on_spark_runs_queries_side_by_side_as_the_runner_says(tmp_path):
    """The cluster holds the data, so a Spark warehouse's size does not bound dbt's threads; the profile takes
    them from the runner (DBT_THREADS), as the file's target does: with one, the test world's build on the test
    cluster took 165 s, with four 143 s."""
    outputs = yaml.safe_load((TRANSFORMS / "profiles.yml").read_text())["attribution"]["outputs"]
    for target in ("warehouse", "spark"):
        assert "env_var('DBT_THREADS'" in str(outputs[target]["threads"]), (target, outputs[target]["threads"])
    lake = Warehouse(f"spark:{tmp_path}/lake", metastore="dbname=m", memory_limit="1MB")
    assert lake.dbt_threads() == 4 and lake.dbt_env()["DBT_THREADS"] == "4"
    assert Warehouse(f"spark:{tmp_path}/lake", metastore="dbname=m", threads=16).dbt_threads() == 16
