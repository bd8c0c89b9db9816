"""Publishing for readers: a snapshot DuckDB 1.x tools open, Parquet per mart, docs carried along, and
readers that never block a run nor break during one."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
import yaml

from benchmarks.memory import PeakRss
from pipelines.publish import DASHBOARD, MARKER
from pipelines.registry import SOURCES
from tests.warehouse import ROOT, run_cli, sandbox_env
from warehouse.project import TRANSFORMS
from warehouse.publication import PARQUET, SNAPSHOT

DUCKDB_CLI = Path(sys.executable).with_name("duckdb")  # the duckdb-cli 1.5.6 package: a DuckDB 1.x tool
READER = """
import sys, time, duckdb
from pathlib import Path
snapshot, log, stop = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
con = duckdb.connect(snapshot, read_only=True)  # held open for the whole run, as a BI tool does
with log.open("w") as out:
    while not stop.exists():
        try:
            out.write(f"ok {con.execute('select count(*) from marts.conversions').fetchone()[0]}\\n")
        except Exception as exc:
            out.write(f"error {exc!r}\\n")
        out.flush()
        time.sleep(0.1)
"""


def cli(database: Path, sql: str) -> str:
    done = subprocess.run([str(DUCKDB_CLI), "-readonly", "-noheader", "-csv", str(database), "-c", sql],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def count(database: Path, table: str) -> int:
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute(f"select count(*) from {table}").fetchone()[0]


@pytest.fixture(scope="module")
def published(full_run):
    return full_run.warehouse, full_run.published, full_run.summary, full_run.stdout


def test_duckdb_1x_tools_open_the_snapshot_and_the_warehouse(published):
    warehouse, directory, summary, stdout = published
    assert cli(directory / SNAPSHOT, "select version()").startswith("v1.")
    expected = count(warehouse, "marts.conversions")
    assert expected > 0
    assert int(cli(directory / SNAPSHOT, "select count(*) from marts.conversions")) == expected
    assert int(cli(warehouse, "select count(*) from marts.conversions")) == expected
    assert summary["published"]["path"] == str(directory / SNAPSHOT)
    assert str(directory / SNAPSHOT) in stdout and "publish      published" in stdout


def test_the_snapshot_holds_the_marts_and_their_docs_only(published):
    warehouse, directory, _, _ = published
    snapshot = directory / SNAPSHOT
    with duckdb.connect(str(snapshot), read_only=True) as con:
        schemas = {s for (s,) in con.execute("select distinct schema_name from duckdb_tables()").fetchall()}
        comments = dict(((t, c), d) for t, c, d in con.execute(
            "select table_name, column_name, comment from duckdb_columns() where schema_name = 'marts'").fetchall())
        table_comments = dict(con.execute(
            "select table_name, comment from duckdb_tables() where schema_name = 'marts'").fetchall())
    assert schemas == {"marts"}
    spec = yaml.safe_load((TRANSFORMS / "models" / "marts" / "_marts.yml").read_text())
    for model in spec["models"]:
        assert table_comments[model["name"]] == model["description"].strip()
        for column in model["columns"]:
            assert comments[(model["name"], column["name"])] == column["description"].strip()
    for table in table_comments:
        parquet = directory / PARQUET / f"{table}.parquet"
        assert count(snapshot, f"read_parquet('{parquet}')") == count(warehouse, f"marts.{table}") == \
            count(snapshot, f"marts.{table}")


def test_a_reader_holding_the_snapshot_neither_blocks_a_run_nor_breaks(full_run, fresh_sandbox, tmp_path):
    warehouse = full_run.copy_to(tmp_path)  # the full run's world: the fresh sandbox's, before it advances
    env = sandbox_env(fresh_sandbox, list(SOURCES))
    first = run_cli(["--warehouse", str(warehouse), "--vendors", "webmarketer"], env)  # publishes the built marts
    assert first.returncode == 0, first.stdout + first.stderr
    snapshot = tmp_path / "wh_published" / SNAPSHOT
    before = count(snapshot, "marts.conversions")
    assert f"{before:,} conversions from" in (snapshot.parent / DASHBOARD).read_text()  # the page of this snapshot

    log, stop = tmp_path / "reader.log", tmp_path / "stop"
    reader = subprocess.Popen([sys.executable, "-c", READER, str(snapshot), str(log), str(stop)], cwd=ROOT)
    try:
        while not log.exists() or not log.read_text():
            time.sleep(0.1)
        fresh_sandbox.advance(24 * 2)
        second = run_cli(["--warehouse", str(warehouse), "--vendors", "webmarketer"], env)  # new orders, a build
        time.sleep(0.5)  # the reader goes on reading its file after the swap
    finally:
        stop.touch()
        reader.wait(30)
    assert second.returncode == 0, second.stdout + second.stderr
    readings = log.read_text().splitlines()
    assert readings and all(line == f"ok {before}" for line in readings), readings[-5:]
    after = count(snapshot, "marts.conversions")  # a new connection sees the new data
    assert after == count(warehouse, "marts.conversions") > before
    # the run rebuilt the page with the new data, no other command
    assert f"{after:,} conversions from" in (snapshot.parent / DASHBOARD).read_text()
    leftovers = sorted(p.name for p in snapshot.parent.iterdir())
    assert leftovers == sorted([SNAPSHOT, PARQUET, MARKER, DASHBOARD, (snapshot.parent / PARQUET).resolve().name]
                               ), leftovers


def test_publishing_follows_the_configured_path_and_can_be_turned_off(full_run, sandbox, tmp_path):
    warehouse, target = full_run.copy_to(tmp_path), tmp_path / "for-bi"  # built, never published at these paths
    env = sandbox_env(sandbox, list(SOURCES), PUBLISH__PATH=str(target))
    done = run_cli(["--warehouse", str(warehouse), "--vendors", "webmarketer", "--no-publish"], env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "transforms   unchanged" in done.stdout and "publish" not in done.stdout.split("transforms")[1]
    assert not target.exists()
    assert "  push " not in done.stdout  # [destinations] enabled = false (sandbox_env's default)
    done = run_cli(["--warehouse", str(warehouse), "--vendors", "webmarketer"], env)  # nothing published there yet
    assert done.returncode == 0, done.stdout + done.stderr
    assert count(target / SNAPSHOT, "marts.conversions") == count(warehouse, "marts.conversions")
    assert not (tmp_path / "wh_published").exists()


def test_a_build_whose_publication_failed_is_published_by_the_next_run(full_run, fresh_sandbox, tmp_path):
    """A publish that fails (a full disk; here the Parquet link is in the way) leaves readers the old snapshot;
    the next run brings them the last build, even though nothing new arrived and the build is skipped."""
    warehouse = full_run.copy_to(tmp_path)  # the full run's world: the fresh sandbox's, before it advances
    env = sandbox_env(fresh_sandbox, list(SOURCES))
    args = ["--warehouse", str(warehouse), "--vendors", "webmarketer"]
    assert run_cli(args, env).returncode == 0  # publishes the built marts
    snapshot = tmp_path / "wh_published" / SNAPSHOT
    before = count(snapshot, "marts.conversions")
    assert f"{before:,} conversions from" in (snapshot.parent / DASHBOARD).read_text()  # the page of this snapshot

    fresh_sandbox.advance(24 * 2)
    link = snapshot.parent / PARQUET
    link.unlink()
    link.mkdir()  # publishing cannot swap its link now
    blocked = run_cli(args, env)
    assert blocked.returncode == 1 and "publish      failed" in blocked.stdout, blocked.stdout
    assert count(snapshot, "marts.conversions") == before < count(warehouse, "marts.conversions")

    link.rmdir()  # the disk has room again; nothing new at the vendor
    again = run_cli(args, env)
    assert again.returncode == 0 and "transforms   unchanged" in again.stdout, again.stdout
    assert "publish      published" in again.stdout, again.stdout
    assert count(snapshot, "marts.conversions") == count(warehouse, "marts.conversions") > before
    quiet = run_cli(args, env)  # in step now: nothing to publish
    assert quiet.returncode == 0 and "publish" not in quiet.stdout, quiet.stdout


def test_publishing_stays_within_the_warehouses_memory_limit(tmp_path):
    """The snapshot's DuckDB had no memory limit and kept the copied marts in its buffer pool: the runner's
    publish step peaked at 2.6 GiB at scale 1350 (12.5M attribution rows), past the job's 1.5 GiB."""
    warehouse = tmp_path / "wh.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.attribution as select i as n, md5(i::varchar) as conversion_id, "
                    "random() as credit, md5((i * 7)::varchar) as channel from range(2000000) as t(i)")
    code = ("import sys; from pipelines.publish import publish; from warehouse import Warehouse; "
            "publish(Warehouse(sys.argv[1], memory_limit='64MB'), sys.argv[2])")
    child = subprocess.Popen([sys.executable, "-c", code, str(warehouse), str(tmp_path / "published")], cwd=ROOT,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    with PeakRss(root=child.pid) as peak:
        _, err = child.communicate(timeout=300)
    assert child.returncode == 0, err
    assert count(tmp_path / "published" / SNAPSHOT, "marts.attribution") == 2_000_000
    # ~290 MiB within the limit (Python, pandas and plotly ~200 of it); ~490 MiB before
    assert peak.bytes < 400 * 2**20, f"publishing at a 64MB limit peaked at {peak.bytes / 2**20:.0f} MiB"
