"""The change filter of sources.common.incremental through real dlt pipelines into DuckDB: a record is passed
on when it differs from its version last loaded (whatever it was before that), and the fingerprints live in
the warehouse, loaded with the records, so dlt state stays small whatever the volume."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import dlt
import pyarrow as pa
import pytest

import dlt_adapter
from sources.common.contract import AMOUNT
from sources.common.incremental import contract_resources, fingerprints_table, lookback_resource
from tests.warehouse import committed_state, count
from warehouse import LOADER_FILE_FORMAT, make_pipeline

START = datetime(2026, 9, 1, tzinfo=UTC)


def source_over(records: list[dict], arrow: bool, write_disposition: str = "merge", **hints):
    """A source of one lookback table, `things`, whose vendor holds `records` (the test changes them)."""

    def read(begin: datetime, end: datetime):
        rows = [dict(r) for r in records if begin <= r["at"] < end]
        yield pa.Table.from_pylist(rows) if arrow else rows

    @dlt.source(name="things")
    def things():
        return [*(contract_resources() if hints else []),
                lookback_resource("things", primary_key="id", cursor_field="at", read=read, initial=START,
                                  lookback=timedelta(days=30), write_disposition=write_disposition, **hints)]

    return things()


def loaded(pipeline) -> int:
    return pipeline.last_trace.last_normalize_info.row_counts.get("things", 0)


@pytest.mark.parametrize("arrow", [False, True], ids=["json", "arrow"])
def test_a_record_that_changes_back_is_passed_on_each_time(tmp_path, arrow):
    records = [{"id": "a", "at": START + timedelta(days=1), "status": "processing"},
               {"id": "b", "at": START + timedelta(days=2), "status": "processing"}]
    pipeline = make_pipeline("things", tmp_path / "wh.duckdb")
    passed = []
    for status in ("processing", "approved", "processing", "processing"):
        records[0]["status"] = status
        pipeline.run(source_over(records, arrow), loader_file_format=LOADER_FILE_FORMAT)
        passed.append(loaded(pipeline))
    # First load: both; then `a` each time it differs from the version loaded last, even back to an older one.
    assert passed == [2, 1, 1, 0]
    assert count(tmp_path / "wh.duckdb", "select count(*) from things.things where status = 'processing'") == 2


@pytest.mark.parametrize("arrow", [False, True], ids=["json", "arrow"])
def test_fingerprints_are_loaded_beside_the_records_not_kept_in_state(tmp_path, arrow):
    records = [{"id": f"r{i}", "at": START + timedelta(minutes=i), "value": i} for i in range(5_000)]
    pipeline = make_pipeline("things", tmp_path / "wh.duckdb")
    pipeline.run(source_over(records, arrow, "append"), loader_file_format=LOADER_FILE_FORMAT)
    assert loaded(pipeline) == 5_000
    assert count(tmp_path / "wh.duckdb", f"select count(*) from things.{fingerprints_table('things')}") == 5_000
    # The state holds the cursor and nothing per record (in dlt state, 5,000 fingerprints took ~300 KB).
    assert len(json.dumps(committed_state(pipeline), default=str)) < 5_000
    pipeline.run(source_over(records, arrow, "append"), loader_file_format=LOADER_FILE_FORMAT)
    assert loaded(pipeline) == 0
    records[7]["value"] = -1
    pipeline.run(source_over(records, arrow, "append"), loader_file_format=LOADER_FILE_FORMAT)
    assert loaded(pipeline) == 1


@pytest.mark.parametrize("arrow", [False, True], ids=["json", "arrow"])
def test_fingerprints_are_kept_only_where_a_later_run_reads_them_back(tmp_path, arrow):
    """A later run compares only the records within the lookback (30 days) before the mark: a backfill of 60 days
    keeps the fingerprints of the last 30, and nothing changed is passed on again."""
    records = [{"id": f"r{i}", "at": START + timedelta(hours=i), "value": i} for i in range(60 * 24)]
    pipeline = make_pipeline("things", tmp_path / "wh.duckdb")
    pipeline.run(source_over(records, arrow, "append"), loader_file_format=LOADER_FILE_FORMAT)
    assert loaded(pipeline) == len(records)
    read_back = [r for r in records if r["at"] >= records[-1]["at"] - timedelta(days=30)]
    assert count(tmp_path / "wh.duckdb", f"select count(*) from things.{fingerprints_table('things')}") \
        == len(read_back) < len(records)
    pipeline.run(source_over(records, arrow, "append"), loader_file_format=LOADER_FILE_FORMAT)
    assert loaded(pipeline) == 0
    read_back[0]["value"] = -1  # the oldest record the next run reads back
    pipeline.run(source_over(records, arrow, "append"), loader_file_format=LOADER_FILE_FORMAT)
    assert loaded(pipeline) == 1


def test_fingerprints_are_kept_from_where_a_record_waiting_for_a_fix_was_listed(tmp_path):
    """The next run reads back to a rejected record, however old (within REREAD_REJECTED): the records listed
    since are compared there, so their fingerprints are kept, and only the fixed record is passed on."""
    records = [{"id": f"r{i}", "at": START + timedelta(hours=i), "value": i} for i in range(60 * 24)]
    records[0]["value"] = "not a number"
    columns = {"id": {"data_type": "text"}, "at": {"data_type": "timestamp"}, "value": {"data_type": "bigint"}}
    pipeline = make_pipeline("things", tmp_path / "wh.duckdb")
    pipeline.run(source_over(records, False, "append", columns=columns), loader_file_format=LOADER_FILE_FORMAT)
    assert loaded(pipeline) == len(records) - 1
    assert count(tmp_path / "wh.duckdb", f"select count(*) from things.{fingerprints_table('things')}") \
        == len(records)
    records[0]["value"] = 0  # fixed by the vendor
    pipeline.run(source_over(records, False, "append", columns=columns), loader_file_format=LOADER_FILE_FORMAT)
    assert loaded(pipeline) == 1
    assert count(tmp_path / "wh.duckdb", "select count(*) from things.rejected_records") == 0


@pytest.mark.parametrize("arrow", [False, True], ids=["json", "arrow"])
def test_every_table_a_resource_writes_is_loaded_from_parquet(tmp_path, arrow):
    """The run asks for Parquet, which dlt gives a resource's own table only: its fingerprints and contract
    tables went to DuckDB as `insert_values`, one SQL statement of every row, ~10x slower and heavy in memory."""
    records = [{"id": f"r{i}", "at": START + timedelta(minutes=i), "value": float(i)} for i in range(1_000)]
    records[0]["value"] = 1e300  # an absurd amount: a row for rejected_records too, on both paths
    # nullability declared, as Integr8 declares it: dlt's frozen types compare it with Arrow's
    columns = {"id": {"data_type": "text", "nullable": False}, "at": {"data_type": "timestamp", "nullable": True},
               "value": {"data_type": "double", "nullable": True, AMOUNT: True}}
    pipeline = make_pipeline("things", tmp_path / "wh.duckdb")
    info = pipeline.run(source_over(records, arrow, columns=columns), loader_file_format=LOADER_FILE_FORMAT)
    # dlt's own state (one row) aside; `sql` jobs are a merge's statements after the copy
    copies = {(dlt_adapter.job_table(job), dlt_adapter.job_file_format(job))
              for package in info.load_packages for job in package.jobs["completed_jobs"]
              if not dlt_adapter.job_table(job).startswith("_dlt_") and dlt_adapter.job_file_format(job) != "sql"}
    assert {table for table, _ in copies} >= {"things", fingerprints_table("things"), "rejected_records"}
    assert {kind for _, kind in copies} == {"parquet"}, copies
