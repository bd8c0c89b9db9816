"""The shared warehouse: the same pipelines and models into a DuckLake whose catalog is a real Postgres
(a throwaway cluster): the whole Dagster job builds the runner's marts there, which hold the sandbox's truth (the
same helper as the DuckDB file); readers keep reading during a run of the runner, and a second runner on the same
catalog is refused."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from orchestration.definitions import build_definitions
from pipelines.fingerprint import fingerprints, table_fingerprints
from pipelines.registry import SOURCES
from tests.orchestration.test_dagster import materialized, run_job, step_outcomes
from tests.pausepoint import resume, start_paused
from tests.truths import assert_warehouse_truths
from tests.warehouse import ROOT, run_cli, sandbox_env
from warehouse import Warehouse
from warehouse.extensions import ensure_extensions
from warehouse.local_postgres import running_postgres
from warehouse.publication import SNAPSHOT

READER = """
import sys, time
from pathlib import Path
from warehouse import Warehouse
location, data_path, log, stop = sys.argv[1], sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4])
con = Warehouse(location, data_path=data_path).connect(read_only=True)
with log.open("w") as out:
    while not stop.exists():
        try:
            n = con.execute("select count(*) from marts.conversions").fetchone()[0]
            c = con.execute("select round(sum(credit)) from marts.attribution").fetchone()[0]
            out.write(f"ok {n} {c}\\n")
        except Exception as exc:
            out.write(f"error {exc!r}\\n")
        out.flush()
        time.sleep(0.2)
"""


@pytest.fixture(scope="module")
def lake(sandbox, tmp_path_factory):
    """A lake the whole Dagster job (in this process, configured as `dagster dev` would be) loaded and built."""
    base = tmp_path_factory.mktemp("lake")
    with running_postgres() as postgres:
        location = f"ducklake:postgres:{postgres.create_database('lake')}"
        env = sandbox_env(sandbox, list(SOURCES), WAREHOUSE__LOCATION=location,
                          WAREHOUSE__DATA_PATH=str(base / "data") + "/", WAREHOUSE__STATE_DIR=str(base / "state"),
                          PUBLISH__PATH=str(base / "published"))
        with pytest.MonkeyPatch.context() as patch:
            for key in os.environ.keys() - env.keys():
                patch.delenv(key)
            for key, value in env.items():
                patch.setenv(key, value)
            warehouse = Warehouse.configured()
            done = run_job(build_definitions(warehouse))
        assert done.success, step_outcomes(done)
        yield warehouse, env, base, sandbox, done


def test_the_dagster_job_on_ducklake_builds_the_runners_marts_holding_the_same_truths(lake, full_run):
    warehouse, _, base, sandbox, done = lake
    assert "published_marts" in materialized(done)
    with warehouse.connect(read_only=True) as con:
        assert_warehouse_truths(con, sandbox.control("GET", "truth/conversions"))
        conversions = con.execute("select count(*) from marts.conversions").fetchone()[0]
        schemas = {s for (s,) in con.execute("select distinct schema_name from duckdb_tables() "
                                             "where database_name = current_database()").fetchall()}
        lake_marts = table_fingerprints(con, ["marts"])
    assert {*SOURCES, "intermediate", "marts"} <= schemas
    # `full_run` is the runner on a DuckDB file, on a sandbox of the same world
    assert lake_marts and lake_marts == {table: fingerprint for table, fingerprint in
                                         fingerprints(str(full_run.warehouse)).items() if table.startswith("marts.")}
    assert list((base / "data").rglob("*.parquet")), "the lake's data are Parquet files under data_path"
    # Publishing for BI works from the lake too.
    with duckdb.connect(str(base / "published" / SNAPSHOT), read_only=True) as snapshot:
        assert snapshot.execute("select count(*) from marts.conversions").fetchone()[0] == conversions


def test_readers_keep_reading_during_a_run_and_a_second_runner_is_refused(lake, tmp_path):
    warehouse, env, _, _, _ = lake
    log, stop = tmp_path / "reader.log", tmp_path / "stop"
    reader = subprocess.Popen([sys.executable, "-c", READER, warehouse.location, warehouse.data_path, str(log),
                               str(stop)], cwd=ROOT, env={**env, "PYTHONPATH": str(ROOT)})
    try:
        while not log.exists() or not log.read_text():
            assert reader.poll() is None, "the reader could not start"
            time.sleep(0.1)
        # A quick load, then the whole dbt build, held before the build with the lake's lock taken: the third
        # run certainly overlaps it, and the readers read on through the build that follows.
        second = start_paused("before-transform", ["--vendors", "webmarketer", "--force-transform",
                                                   "--summary-json", str(tmp_path / "summary.json")], env,
                              tmp_path / "pause")
        try:
            third = run_cli([], env)
        finally:
            resume(tmp_path / "pause")
            second_out = second.communicate(timeout=600)[0]
        time.sleep(0.5)  # readings after the run, too
    finally:
        stop.touch()
        reader.wait(30)
    assert third.returncode == 75, third.stdout + third.stderr
    assert "another run is writing the DuckLake" in third.stderr
    assert second.returncode == 0 and "transforms   built" in second_out, second_out
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["warehouse"].startswith("DuckLake lake (catalog postgres:"), summary["warehouse"]
    readings = log.read_text().splitlines()
    errors = [line for line in readings if not line.startswith("ok ")]
    assert not errors and len(readings) > 20, (errors[:3], len(readings))


def test_a_missing_extension_is_one_line_saying_how_to_install_it(tmp_path):
    """No extension installed (an empty HOME) and neither the PyPI package nor the network to get it."""
    hide_packages = "import sys; sys.modules['duckdb_ext'] = None; from pipelines.run import main; sys.exit(main())"
    env = {**os.environ, "HOME": str(tmp_path), "WAREHOUSE__LOCATION": f"ducklake:{tmp_path / 'meta.ducklake'}"}
    done = subprocess.run([sys.executable, "-c", hide_packages, "--no-transform"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "the DuckDB extension 'ducklake' is not installed" in done.stdout
    assert f"pip install duckdb-ext-ducklake=={duckdb.__version__}.*" in done.stdout
    assert not (tmp_path / "meta.ducklake").exists()


CONNECT_TO_LAKE = ("import sys; from warehouse import Warehouse; "
                   "Warehouse(sys.argv[1]).connect(read_only=False).close()")


def test_a_tampered_extension_is_refused_though_lake_connections_load_it_unchecked(tmp_path):
    """A lake's connections load the extensions without DuckDB's signature check once the process has loaded
    them with it (warehouse.lake): that first load refuses a binary changed on disk."""
    ensure_extensions(("ducklake",))  # installed on this machine, whichever test comes first
    with duckdb.connect() as con:
        binary = Path(con.execute("select install_path from duckdb_extensions() "
                                  "where extension_name = 'ducklake'").fetchone()[0])
    home = tmp_path / "home"
    copy = home / ".duckdb" / binary.relative_to(binary.parents[3])
    copy.parent.mkdir(parents=True)
    shutil.copy(binary, copy)
    env = {**os.environ, "HOME": str(home)}
    lake = f"ducklake:{tmp_path / 'meta.ducklake'}"
    intact = subprocess.run([sys.executable, "-c", CONNECT_TO_LAKE, lake], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=120)
    assert intact.returncode == 0, intact.stderr
    with copy.open("r+b") as out:  # one byte of the code, not of the signature at the end
        out.seek(copy.stat().st_size // 2)
        byte = out.read(1)
        out.seek(-1, os.SEEK_CUR)
        out.write(bytes([byte[0] ^ 0xFF]))
    tampered = subprocess.run([sys.executable, "-c", CONNECT_TO_LAKE, lake], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=120)
    assert tampered.returncode != 0
    assert "signature" in tampered.stderr
