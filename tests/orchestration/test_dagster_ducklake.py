"""The whole Dagster job on a DuckLake builds the runner's marts (split from test_dagster.py so the suite runs it
beside the other job runs)."""

from __future__ import annotations

from orchestration.definitions import build_definitions
from pipelines.fingerprint import fingerprints, table_fingerprints
from pipelines.registry import SOURCES
from tests.orchestration.test_dagster import materialized, run_job, step_outcomes
from tests.warehouse import sandbox_env
from warehouse import Warehouse


def test_the_whole_job_on_a_ducklake_builds_the_same_marts(sandbox, full_run, tmp_path, monkeypatch):
    location = f"ducklake:{tmp_path / 'meta.ducklake'}"
    settings = {"WAREHOUSE__LOCATION": location, "WAREHOUSE__DATA_PATH": f"{tmp_path / 'data'}/",
                "WAREHOUSE__STATE_DIR": str(tmp_path / "state"), "PUBLISH__PATH": str(tmp_path / "published")}
    for key, value in sandbox_env(sandbox, list(SOURCES), **settings).items():
        monkeypatch.setenv(key, value)
    warehouse = Warehouse.configured()
    done = run_job(build_definitions(warehouse))
    assert done.success, step_outcomes(done)
    assert "published_marts" in materialized(done)
    with warehouse.connect(read_only=True) as con:
        lake_marts = table_fingerprints(con, ["marts"])
    assert lake_marts and lake_marts == {table: fingerprint for table, fingerprint in
                                         fingerprints(str(full_run.warehouse)).items() if table.startswith("marts.")}
