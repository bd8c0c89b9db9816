"""Memory is handed back to the operating system between a run's steps only by a process holding enough for
it to matter: a full collection costs 0.1-0.2 s of CPU however little it returns. Within the extract, Arrow's
pool hands back what a batch freed as it is freed."""

from __future__ import annotations

import gc
import json
import subprocess
import sys

import duckdb
import pytest

from pipelines.heap import release_memory, resident_bytes
from tests.warehouse import ROOT
from warehouse import Warehouse

pytestmark = pytest.mark.fast


def test_memory_is_released_only_by_a_process_holding_enough_to_matter():
    resident = resident_bytes()
    assert resident is not None and resident > 0
    full_collections = gc.get_stats()[2]["collections"]
    assert release_memory(above=resident + 2**30) is False
    assert gc.get_stats()[2]["collections"] == full_collections
    assert release_memory(above=0) is True
    assert gc.get_stats()[2]["collections"] == full_collections + 1


# In a process of its own: the pool is the process's, and the test worker's must not change under other tests.
BATCHES_FREED = """
import json, sys
import numpy as np, pyarrow as pa, pyarrow.compute as pc
from pipelines.heap import resident_bytes, return_arrow_memory_promptly
if sys.argv[1] == "extract":
    return_arrow_memory_promptly()  # what pipelines.run.extract does first
column = pa.array(np.arange(2_000_000, dtype=np.int64))  # 16 MB that numpy owns
before = resident_bytes()
batches = [pc.add(column, i) for i in range(20)]  # 320 MB from Arrow's pool, as an export's batches in flight
held = resident_bytes() - before
del batches
print(json.dumps({"pool": pa.default_memory_pool().backend_name, "held": held, "kept": resident_bytes() - before}))
"""


def freed_batches(mode: str) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-c", BATCHES_FREED, mode], cwd=ROOT, capture_output=True, text=True,
                          check=True)
    return json.loads(done.stdout)


def test_arrow_memory_an_extract_freed_goes_back_to_the_system_at_once():
    """pyarrow's default pool (mimalloc) kept every page of freed batches: an Integr8 export at scale 1350 held
    1.57 GiB resident for 0.49 GiB of live Arrow memory. The extract's pool returns them as they are freed."""
    default, extract = freed_batches("default"), freed_batches("extract")
    assert extract["pool"] == "jemalloc", extract
    assert extract["held"] > 250 * 2**20 and extract["kept"] < 32 * 2**20, extract
    assert default["kept"] > extract["kept"] + 200 * 2**20, (default, extract)  # what it changes, on this machine


def cached_mib(path) -> float:
    """What the open database's buffer pool holds (a new connection to the instance this process has open)."""
    with duckdb.connect(str(path)) as con:
        return con.execute("select sum(memory_usage_bytes) / 2 ** 20 from duckdb_memory()").fetchone()[0]


def test_the_database_kept_open_for_the_loads_drops_their_blocks_when_reopened(tmp_path):
    """The extract process keeps the warehouse open for all its vendors, and DuckDB kept every block a load read
    or wrote cached up to memory_limit for as long as it stayed open: at scale 1350 ClickMagick's normalize ran
    on top of what Integr8's load had left. The runner reopens it after each load."""
    path = tmp_path / "wh.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create table t as select i, md5(i::varchar) as h from range(1000000) as r(i)")
    warehouse = Warehouse(str(path))
    with warehouse.kept_open() as reopen:
        with duckdb.connect(str(path)) as load:  # a load's connection to the open database
            load.execute("create table u as select * from t order by h").fetchall()
        assert cached_mib(path) > 20
        other = duckdb.connect(str(path))  # another vendor's connection, open across the reopen
        reopen()
        assert other.execute("select count(*) from u").fetchone()[0] == 1_000_000
        other.close()
        reopen()
        assert cached_mib(path) < 5


def test_the_runner_holds_no_dashboard_libraries_while_dbt_builds():
    """The runner process waits beside dbt, and the job's peak is their sum: the dashboard's pandas and Plotly
    (~30 MiB) load only when a run publishes (pipelines/publish.py), after the build."""
    probe = "import sys, pipelines.run; print(sorted({'pandas', 'plotly'} & set(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]", done.stdout
