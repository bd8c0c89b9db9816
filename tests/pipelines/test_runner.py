"""The runner as a scheduler would call it: locking, partial runs, kills, summaries, refresh and backfill."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import dlt
import duckdb
import pytest

from benchmarks.memory import tree_pids
from pipelines.child import LOAD_PROCESS
from pipelines.registry import SOURCES
from pipelines.run import VendorResult, load_normalized
from pipelines.transform import inputs_digest
from tests.pausepoint import resume, start_paused
from tests.warehouse import (
    PINNED_END,
    Uninterrupted,
    count,
    killed_at,
    run_cli,
    sandbox_env,
    snapshot,
    uninterrupted,
)
from warehouse import LOADER_FILE_FORMAT, Warehouse, make_pipeline
from warehouse.lock import WarehouseLock

ALL = list(SOURCES)
END = PINNED_END


def test_overlapping_run_is_refused_with_its_own_exit_code(sandbox, tmp_path):
    wh = tmp_path / "wh.duckdb"
    env = sandbox_env(sandbox, ALL, **END)
    first = start_paused("before-extract", ["--warehouse", str(wh), "--no-transform"], env, tmp_path / "pause")
    try:  # held with the lock taken: the second run certainly overlaps it
        second = run_cli(["--warehouse", str(wh), "--no-transform"], env)
    finally:
        resume(tmp_path / "pause")
        first.wait(300)
    assert second.returncode == 75
    assert "another run is writing" in second.stderr
    assert first.returncode == 0
    with WarehouseLock(wh):  # released when the first run ended
        pass


def test_the_loads_start_once_the_extract_process_has_ended(sandbox, tmp_path):
    """The extract leaves Python's heap fragmented by millions of rows read as dicts (~1 GiB after ClickMagick's
    extract at scale 1350), and its last vendor's load copied 4.3M sale credits into DuckDB on top of it: the
    extract phase peaked at 1.57 GiB. The loads run in a process of their own, started once the extract's has
    ended."""
    wh, summary = tmp_path / "wh.duckdb", tmp_path / "summary.json"
    env = sandbox_env(sandbox, ALL, **END)
    run = start_paused("before-load", ["--warehouse", str(wh), "--no-transform", "--summary-json", str(summary)],
                       env, tmp_path / "pause")
    try:
        loader = int((tmp_path / "pause" / "paused").read_text())
        assert tree_pids(run.pid)[1:] == [loader]  # the extract process is gone; nothing is loaded yet
        assert Path(f"/proc/{loader}/comm").read_text().strip() == LOAD_PROCESS  # as `ps` shows it
    finally:
        resume(tmp_path / "pause")
        run.wait(300)
    assert run.returncode == 0, run.communicate()[0]
    report = json.loads(summary.read_text())
    assert {v["vendor"]: v["status"] for v in report["vendors"]} == dict.fromkeys(ALL, "loaded")
    assert count(wh, "select count(*) from webmarketer.events") == sandbox.truth()["webmarketer"]["events"]


def test_a_load_that_fails_reports_no_rows_loaded(tmp_path):
    """A vendor whose load fails says so with no rows: the rows it normalized were not loaded (the summary
    printed them under a failed vendor when the load moved to a process of its own)."""
    warehouse = Warehouse(str(tmp_path / "wh.duckdb"))
    pipeline = make_pipeline("webmarketer", warehouse)
    pipeline.extract(dlt.resource([{"id": 1}], name="t"), loader_file_format=LOADER_FILE_FORMAT)
    pipeline.normalize()
    (tmp_path / "wh.duckdb").write_bytes(b"not a database" * 1000)
    failed = load_normalized(VendorResult("webmarketer", "normalized", 1.0, rows={"t": 1}), warehouse)
    assert failed.status == "failed" and "not a valid DuckDB database" in failed.error and failed.rows == {}


def test_a_vendor_down_gives_a_partial_run_with_the_others_loaded(sandbox, tmp_path):
    wh, summary = tmp_path / "wh.duckdb", tmp_path / "summary.json"
    env = sandbox_env(sandbox, ALL, SOURCES__INTEGR8__API_KEY="revoked-key", **END)
    done = run_cli(["--warehouse", str(wh), "--no-transform", "--summary-json", str(summary)], env)
    assert done.returncode == 3, done.stdout + done.stderr
    report = json.loads(summary.read_text())
    status = {v["vendor"]: v["status"] for v in report["vendors"]}
    assert report["status"] == "partial" and status == {"clickmagick": "loaded", "integr8": "failed",
                                                        "webmarketer": "loaded"}
    failed = next(v for v in report["vendors"] if v["vendor"] == "integr8")
    assert "Integr8" in failed["error"] and "HTTP 401" in failed["error"]
    loaded = next(v for v in report["vendors"] if v["vendor"] == "clickmagick")
    assert loaded["rows"]["sales"] == sandbox.truth()["clickmagick"]["sales"]
    assert count(wh, "select count(*) from webmarketer.events") == sandbox.truth()["webmarketer"]["events"]
    assert "revoked-key" not in done.stdout + done.stderr + summary.read_text()


@pytest.fixture(scope="module")
def reference(sandbox, tmp_path_factory) -> Uninterrupted:
    """One uninterrupted run for every kill point below (the module's sandbox does not move)."""
    warehouse = tmp_path_factory.mktemp("reference") / "wh.duckdb"
    return uninterrupted(["--warehouse", str(warehouse), "--no-transform"], sandbox_env(sandbox, ALL, **END),
                         warehouse, ALL)


@pytest.mark.parametrize("kill_at", [0.2, 0.45, 0.7])
def test_killed_run_converges_to_the_uninterrupted_tables(sandbox, reference, tmp_path, kill_at):
    env = sandbox_env(sandbox, ALL, **END)
    killed = tmp_path / "killed.duckdb"
    killed_at(["--warehouse", str(killed), "--no-transform"], env, kill_at, reference.took)
    rerun = run_cli(["--warehouse", str(killed), "--no-transform"], env)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    for vendor in ALL:
        assert snapshot(killed, vendor) == reference.snapshots[vendor], vendor


def test_full_refresh_and_backfill_converge_to_the_same_tables(full_run, sandbox, tmp_path):
    wh = full_run.copy_to(tmp_path)  # the shared run's sandbox world, which this module's does not move
    env = sandbox_env(sandbox, ["clickmagick", "webmarketer"])
    args = ["--vendors", "clickmagick,webmarketer", "--warehouse", str(wh), "--no-transform"]
    reference = {v: snapshot(wh, v) for v in ("clickmagick", "webmarketer")}
    with duckdb.connect(str(wh)) as con:  # rows lost long before the lookback: a backfill must bring them back
        lost = con.execute("delete from clickmagick.sales where timestamp < '2026-09-25' returning 1").fetchall()
    assert lost
    backfill = run_cli([*args, "--backfill-from", "2026-09-15"], env)
    assert backfill.returncode == 0 and "sales" in backfill.stdout  # re-read and merged
    refresh = run_cli([*args, "--full-refresh"], env)
    assert refresh.returncode == 0
    assert {v: snapshot(wh, v) for v in ("clickmagick", "webmarketer")} == reference


def test_unknown_vendor_is_a_usage_error(tmp_path):
    done = run_cli(["--vendors", "clickmagick,nosuchvendor", "--warehouse", str(tmp_path / "w.duckdb")], {})
    assert done.returncode == 2 and "nosuchvendor" in done.stderr


def test_sandbox_credentials_fill_in_only_for_loopback_urls(sandbox, tmp_path):
    wh = tmp_path / "wh.duckdb"
    base = {k: v for k, v in sandbox_env(sandbox, []).items()}
    local = {**base, "SOURCES__CLICKMAGICK__BASE_URL": sandbox.vendor_url("clickmagick"), **END}
    done = run_cli(["--vendors", "clickmagick", "--warehouse", str(wh), "--no-transform"], local)
    assert done.returncode == 0, done.stdout + done.stderr  # the key came from [sandbox.clickmagick]
    remote = {**base, "SOURCES__CLICKMAGICK__BASE_URL": "https://api.clickmagick.example", **END}
    done = run_cli(["--vendors", "clickmagick", "--warehouse", str(wh), "--no-transform"], remote)
    assert done.returncode == 1
    assert "missing setting(s) api_key" in done.stdout and "SOURCES__CLICKMAGICK__API_KEY" in done.stdout
    assert "cm-sandbox-key" not in done.stdout + done.stderr


def test_a_run_with_nothing_new_skips_the_build(full_run, sandbox, tmp_path):
    """Nothing new at the vendors: no table loads a row, dbt does not build again (the summary says
    "unchanged") and the publication stays as it is. (--force-transform builds anyway: the runs that stop a
    build in test_runner_stops start theirs with it.)"""
    wh, summary = full_run.copy_to(tmp_path), tmp_path / "summary.json"
    shutil.copytree(full_run.published, tmp_path / "wh_published", symlinks=True)
    env = sandbox_env(sandbox, ALL)  # the shared run's sandbox world: nothing new
    args = ["--warehouse", str(wh), "--summary-json", str(summary)]

    def transform_after(*extra: str) -> tuple[str, dict | None]:
        done = run_cli([*args, *extra], env)
        assert done.returncode == 0, done.stdout + done.stderr
        report = json.loads(summary.read_text())
        return report["transform"]["status"], report["published"]

    def loads() -> int:
        return count(wh, "select " + " + ".join(f"(select count(*) from {v}._dlt_loads)" for v in ALL))

    before = loads()
    assert transform_after() == ("unchanged", None)
    loaded = {f"{v['vendor']}.{table}": rows for v in json.loads(summary.read_text())["vendors"]
              for table, rows in v["rows"].items() if rows}
    assert loaded == {}  # not even the tables read whole every run (projects, offers, campaigns...)
    assert loads() == before  # a package without a row is not loaded: no load is even recorded


def test_the_build_inputs_change_with_a_row_and_not_with_a_reload(full_run, tmp_path):
    """What decides a rebuild: a changed value changes the vendor tables' digest; the same rows merged again
    by a later load (new dlt load ids) do not."""
    wh = tmp_path / "wh.duckdb"
    shutil.copy(full_run.warehouse, wh)
    with duckdb.connect(str(wh)) as con:
        before = inputs_digest(con)
        con.execute("update webmarketer.events set _dlt_load_id = '9999999999.1', _dlt_id = md5(_dlt_id)")
        assert inputs_digest(con) == before
        con.execute("update webmarketer.events set turnover = turnover + 1 where id = "
                    "(select min(id) from webmarketer.events where turnover > 0)")
        assert inputs_digest(con) != before


def test_a_warehouse_path_that_cannot_be_one_is_a_usage_error_that_leaves_nothing(tmp_path):
    missing = tmp_path / "no" / "such" / "dir" / "w.duckdb"
    done = run_cli(["--warehouse", str(missing)], {})
    assert done.returncode == 2 and f"the directory {missing.parent} does not exist" in done.stderr, done.stderr
    assert not (tmp_path / "no").exists()  # no directory made, no lock left
    text = tmp_path / "README.md"
    text.write_text("# not a database\n")
    done = run_cli(["--warehouse", str(text)], {})
    assert done.returncode == 2 and f"{text} is not a DuckDB database" in done.stderr, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README.md"]
