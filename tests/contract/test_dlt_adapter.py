"""What the runner relies on from dlt beyond its public API, pinned through `dlt_adapter` on a tiny pipeline into a
temporary DuckDB file (seconds, no sandbox): a dlt upgrade that changes any of it fails here first, naming it.
See the adapter's docstring for why each matters."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import dlt
import duckdb
import pytest

import dlt_adapter
from pipelines.recovery import undo_interrupted_copies
from tests.forked import ROOT

pytestmark = pytest.mark.fast


def orders(rows: list[dict[str, Any]]) -> Any:
    @dlt.resource(name="orders", primary_key="id", write_disposition="merge")
    def resource(updated=dlt.sources.incremental("updated", initial_value=0)) -> Any:
        yield rows

    return resource


def pipeline(directory: Path) -> dlt.Pipeline:
    return dlt.pipeline(pipeline_name="contract", destination=dlt.destinations.duckdb(str(directory / "w.duckdb")),
                        dataset_name="shop", pipelines_dir=str(directory / "state"))


def rows(n: int, start: int = 0, updated: int = 1) -> list[dict[str, Any]]:
    return [{"id": i, "updated": updated, "amount": float(i)} for i in range(start, start + n)]


def query(directory: Path, sql: str) -> Any:
    with duckdb.connect(str(directory / "w.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


# A load of the second package, killed right after the copy of `orders` into staging committed (as the kill-point
# harness does, tests/killpoint.py): the job stays "started".
KILLED_LOAD = """
import sys
from pathlib import Path
from tests.contract.test_dlt_adapter import pipeline
from tests.killpoint import _die_after
from dlt.destinations.impl.duckdb.duck import DuckDbCopyJob
_die_after(DuckDbCopyJob, "orders")
pipeline(Path(sys.argv[1])).load()
"""


@pytest.fixture
def killed_after_copy(tmp_path: Path) -> dlt.Pipeline:
    first = pipeline(tmp_path)
    first.run(orders(rows(3)), loader_file_format="parquet")
    first.extract(orders(rows(4, start=10, updated=2)), loader_file_format="parquet")
    first.normalize()
    done = subprocess.run([sys.executable, "-c", KILLED_LOAD, str(tmp_path)], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == -signal.SIGKILL, done.stderr
    return pipeline(tmp_path)


def test_a_job_killed_after_its_copy_is_started_uncommitted_and_reloaded_without_truncating_staging(
        killed_after_copy, tmp_path):
    started = {dlt_adapter.job_table(job): job for _, _, job in dlt_adapter.started_jobs(killed_after_copy)}
    assert not dlt_adapter.job_committed(started["orders"])
    assert dlt_adapter.job_file_format(started["orders"]) == "parquet"
    assert query(tmp_path, "select count(*) from shop_staging.orders") == [(4,)]
    killed_after_copy.load()  # dlt runs the started job again and does not truncate staging first
    assert query(tmp_path, "select count(*) from shop_staging.orders") == [(8,)]


def test_undoing_the_interrupted_copy_before_the_resume_copies_each_row_once(killed_after_copy, tmp_path):
    assert undo_interrupted_copies(killed_after_copy) == 4  # through table_sql_client, on the staging dataset
    killed_after_copy.load()
    assert query(tmp_path, "select count(*) from shop_staging.orders") == [(4,)]
    assert query(tmp_path, "select count(*), count(distinct id) from shop.orders") == [(7, 7)]


def test_state_comes_back_from_the_warehouse_when_the_local_state_is_dropped(tmp_path):
    first = pipeline(tmp_path)
    first.run(orders(rows(3, updated=5)), loader_file_format="parquet")
    assert dlt_adapter.schema_is_stored(first)
    assert "sources" not in dlt_adapter.forget_local_state(first).state
    restored = pipeline(tmp_path)
    restored.sync_destination()
    cursor = restored.state["sources"]["contract"]["resources"]["orders"]["incremental"]["updated"]
    assert cursor["last_value"] == 5


def test_an_aborted_package_is_gone_and_its_state_change_with_it(tmp_path):
    first = pipeline(tmp_path)
    first.run(orders(rows(2, updated=1)), loader_file_format="parquet")
    first.extract(orders(rows(2, start=5, updated=9)), loader_file_format="parquet")
    assert first.has_pending_data and dlt_adapter.pending_packages_carrying_state(first) == 1
    dlt_adapter.abort_pending_packages(first)
    assert not first.has_pending_data
    cursor = first.state["sources"]["contract"]["resources"]["orders"]["incremental"]["updated"]
    assert cursor["last_value"] == 1


def test_a_new_column_is_a_schema_the_warehouse_does_not_hold_yet(tmp_path):
    first = pipeline(tmp_path)
    first.run(orders(rows(2)), loader_file_format="parquet")
    assert dlt_adapter.schema_is_stored(first)
    first.extract(orders([{"id": 1, "updated": 2, "amount": 1.0, "coupon": "X"}]), loader_file_format="parquet")
    first.normalize()
    assert not dlt_adapter.schema_is_stored(first)


def test_a_signal_is_recorded_not_raised_and_wakes_a_sleep():
    with dlt_adapter.intercepted_signals():
        assert not dlt_adapter.signal_received()
        threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGTERM)).start()
        started = time.monotonic()
        dlt_adapter.interruptible_sleep(60)
        assert time.monotonic() - started < 30, "the sleep did not wake on the signal"
        assert dlt_adapter.signal_received() and dlt_adapter.received_signal() == signal.SIGTERM
        with pytest.raises(dlt_adapter.SignalReceived):
            dlt_adapter.stop_if_signalled()
    assert not dlt_adapter.signal_received()  # cleared when the block ends


def test_a_map_after_the_incremental_sees_only_what_it_passed_whenever_it_is_added():
    seen: list[int] = []

    # a name of its own: iterated outside a pipeline, the resource finds its state in the one active last
    @dlt.resource(name="numbers_mapped_after_incremental", primary_key="id")
    def resource(updated=dlt.sources.incremental("updated", initial_value=5)) -> Any:
        yield [{"id": i, "updated": i} for i in range(10)]

    dlt_adapter.map_after_incremental(resource, lambda row: seen.append(row["id"]) or row)
    resource.apply_hints(table_name="numbers_copy", create_table_variant=True)  # hints set later move nothing
    assert [row["id"] for row in resource] == list(range(5, 10))
    assert seen == list(range(5, 10))
