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


# --- merge in bounded memory -------------------------------------------------------------------------------
CREDIT = {"model": "first_click", "share": 1.0, "link_id": "l1", "source": "google", "medium": "cpc",
          "campaign": "spring", "content": "banner", "term": "shoes", "amount": 1.5, "position": 0}


def sales(n: int) -> Any:
    @dlt.resource(name="sales", primary_key="id", write_disposition="merge")
    def resource() -> Any:
        yield [{"id": i, "credits": [CREDIT, CREDIT]} for i in range(n)]

    return resource


def test_the_warehouse_merges_two_million_nested_rows_at_300_mb_keeping_one_row_per_key(tmp_path):
    """ClickMagick's sale credits at scale 1350 (~4M staged rows) ran DuckDB out of memory at its 1 GB limit in
    dlt's merge (its ROW_NUMBER() window over every column inserted, on every retry). The merge job of the
    warehouse's destination, on 2M staged nested rows at 300 MB and 2 threads (where that window fails), with
    staged duplicates: a root key staged twice, nested rows copied twice (a re-copied file)."""
    from warehouse.kinds import Warehouse

    warehouse = Warehouse(str(tmp_path / "w.duckdb"), memory_limit="300MB")
    loader = dlt.pipeline(pipeline_name="bounded", destination=warehouse.destination(), dataset_name="shop",
                          pipelines_dir=str(tmp_path / "state"))
    loader.run(sales(3), loader_file_format="parquet")
    roots, per_root = 250_000, 8
    with loader.destination_client() as client:
        chain = [client.prepare_load_table("sales"), client.prepare_load_table("sales__credits")]  # type: ignore[attr-defined]
        job = client._create_merge_followup_jobs(chain)[0]  # type: ignore[attr-defined]
        sql = client.sql_client  # type: ignore[attr-defined]
        sql.execute_sql("SET threads = 2")
        sql.execute_sql("DELETE FROM shop_staging.sales; DELETE FROM shop_staging.sales__credits")  # last load's
        sql.execute_sql(f"""INSERT INTO shop_staging.sales (id, _dlt_load_id, _dlt_id)
            SELECT range, 'l', 'root' || range FROM range({roots}) UNION ALL SELECT 7, 'l', 'root7-again'""")
        credits = f"""SELECT 'model' || (range % {per_root}), 1.0 / {per_root}, 'link' || (range % 997), 'google',
            'cpc', 'campaign' || (range % 50), repeat('x', 20), 'term', range * 0.1, range % {per_root},
            'root' || (range // {per_root}), 'root' || (range // {per_root}), range % {per_root},
            md5(range::varchar)[:14] FROM range({roots * per_root})"""
        columns = ("model, share, link_id, source, medium, campaign, content, term, amount, position, "
                   "_dlt_root_id, _dlt_parent_id, _dlt_list_idx, _dlt_id")
        sql.execute_sql(f"INSERT INTO shop_staging.sales__credits ({columns}) {credits}")
        sql.execute_sql(f"INSERT INTO shop_staging.sales__credits ({columns}) {credits} LIMIT 1000")  # copied twice
        sql.execute_sql(f"""INSERT INTO shop_staging.sales__credits ({columns})
            SELECT 'other', 1, 'l', 's', 'm', 'c', 'x', 't', 0, 0, 'root7-again', 'root7-again', 0, 'again'""")
        with sql.begin_transaction():
            sql.execute_many(Path(job.new_file_path()).read_text().splitlines())
    assert query(tmp_path, "select count(*), count(distinct id) from shop.sales") == [(roots, roots)]
    kept_7 = query(tmp_path, "select _dlt_id from shop.sales where id = 7")[0][0]
    expected = roots * per_root if kept_7 == "root7" else roots * per_root - per_root + 1
    assert query(tmp_path, """select count(*), count(distinct c._dlt_id), count(s._dlt_id) from shop.sales__credits c
                              left join shop.sales s on s._dlt_id = c._dlt_root_id""") == [(expected,) * 3]


@pytest.mark.parametrize("order", ["desc", "asc"])
def test_the_warehouse_merge_keeps_the_row_dedup_sort_puts_first_nulls_last(tmp_path, order):
    from warehouse.kinds import Warehouse

    @dlt.resource(name="orders", primary_key="id", write_disposition="merge", columns={"v": {"dedup_sort": order}})
    def versions() -> Any:
        yield [{"id": 1, "v": 1}, {"id": 1, "v": 3}, {"id": 1, "v": None}, {"id": 1, "v": 2},
               {"id": 2, "v": None}, {"id": 2, "v": None}, {"id": 3, "v": 5}]

    loader = dlt.pipeline(pipeline_name="sorted", destination=Warehouse(str(tmp_path / "w.duckdb")).destination(),
                          dataset_name="shop", pipelines_dir=str(tmp_path / "state"))
    loader.run(versions(), loader_file_format="parquet")
    assert query(tmp_path, "select id, v from shop.orders order by id") == [
        (1, 3 if order == "desc" else 1), (2, None), (3, 5)]
