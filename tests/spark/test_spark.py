"""Spark on a real local cluster (tests/spark/conftest.py: Postgres holding the Hive metastore, a master, two
1-core workers), one module so that one worker of the suite starts one cluster: both workers register, an
application runs on both, a table one application registers is read by the next, stopping the cluster stops every
process; and the Spark kind's raw layer: the sources load a Parquet lake append-only (dlt's filesystem
destination), and the current views registered over it (warehouse/spark_lake.py) hold, read by Spark, what
DuckDB's merged tables hold after the same loads: a first load, then three days later (new records, refunds and
other restatements)."""

from __future__ import annotations

import json
import socket
from datetime import UTC, date, datetime
from decimal import Decimal

import dlt
import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.registry import SOURCES
from pipelines.vendors import sandbox_settings
from simulator.process import running_sandbox
from tests.conftest import SHARED_WORK_BUDGET, TEST_SCALE, TEST_SEED
from tests.proxy import running_proxy, spoiling_one_sale
from tests.spark.apps import run_app
from warehouse import LOADER_FILE_FORMAT, Warehouse, make_pipeline
from warehouse.spark_catalog import session_conf
from warehouse.spark_cluster import local_cluster, process_running
from warehouse.spark_lake import loaded_tables, registration_sql


def test_an_application_runs_on_both_workers_and_the_next_reads_the_tables_it_registered(spark_place):
    """Two loads of one raw table, the second with a new column: registered over the Parquet files by one
    application (which ran on both workers), read whole (both loads, both columns) by the next: the catalog lives
    in Postgres, not in a process."""
    status = spark_place.cluster.status()
    assert status["aliveworkers"] == 2 and status["cores"] == 2, status
    files = spark_place.lake / "raw" / "clicks"
    files.mkdir(parents=True)
    pq.write_table(pa.table({"id": [1, 2], "channel": ["a", "b"]}), files / "load-1.parquet")
    pq.write_table(pa.table({"id": [2, 3], "channel": ["b2", "c"], "cost": [1.5, 2.5]}), files / "load-2.parquet")
    conf = session_conf(spark_place.cluster.master_url, spark_place.metastore, spark_place.lake, cores=2)
    first = run_app(conf, f"""
        executors = spark.sparkContext.statusTracker().getExecutorInfos()
        total = spark.range(0, 100_000, numPartitions=8).selectExpr("sum(id) as s").first()["s"]
        spark.sql("create database if not exists raw")
        spark.sql("create table raw.clicks using parquet options (mergeSchema 'true') location '{files}'")
        print(json.dumps({{"executors": len(executors), "total": total}}))
    """)
    assert first == {"executors": 3, "total": 99_999 * 100_000 // 2}  # two executors and the driver
    rows = run_app(conf, """
        print(json.dumps([list(r) for r in spark.sql("select id, channel, cost from raw.clicks order by id, channel")
                          .collect()]))
    """)
    assert rows == [[1, "a", None], [2, "b", None], [2, "b2", 1.5], [3, "c", 2.5]]


def test_stopping_the_cluster_stops_every_process():
    with local_cluster(workers=1) as cluster:
        pids = dict(cluster.pids)
        assert set(pids) == {"master", "worker-1"} and cluster.alive_workers() == 1
    assert not [name for name, pid in pids.items() if process_running(pid)]
    with socket.socket() as s:  # nothing listens on the master's port (its closed connections may linger)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", cluster.master_port))


def normalised(value):
    if isinstance(value, datetime):
        return (value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float | Decimal):
        return round(float(value), 9)
    return value


def rows(con: duckdb.DuckDBPyConnection, query: str) -> tuple[list[str], list[tuple]]:
    found = con.execute(query)
    names = [d[0] for d in found.description]
    kept = [i for i, name in enumerate(names) if not name.startswith("_dlt")]
    return ([names[i] for i in kept],
            sorted((tuple(normalised(row[i]) for i in kept) for row in found.fetchall()), key=repr))


def test_current_views_over_the_append_only_lake_equal_dlts_merged_tables(spark_place, tmp_path, monkeypatch):
    lake = str(spark_place.lake / "raw")
    warehouse = Warehouse(str(tmp_path / "wh.duckdb"))
    lake_state = str(tmp_path / "lake-state")
    schemas, spoiled, first_round = {}, set(), [True]
    spoil_one_sale = spoiling_one_sale(spoiled, active=lambda: first_round[0])  # rejected, then fixed
    with running_sandbox(seed=TEST_SEED, scale=TEST_SCALE, work_budget=SHARED_WORK_BUDGET) as sb, \
            running_proxy(sb.vendor_url("clickmagick"), spoil_one_sale) as clickmagick:
        for key, value in sandbox_settings(sb.url, list(SOURCES)).items():
            monkeypatch.setenv(key, value)
        monkeypatch.setenv("SOURCES__CLICKMAGICK__BASE_URL", clickmagick.url)
        for hours in (0, 72):
            first_round[0] = hours == 0
            sb.advance(hours)
            for vendor in SOURCES:
                into_lake = dlt.pipeline(f"attribution_{vendor}", destination=dlt.destinations.filesystem(lake),
                                         dataset_name=vendor, pipelines_dir=lake_state)
                for pipeline in (into_lake, make_pipeline(vendor, warehouse)):
                    pipeline.activate()  # a source reads what its pipeline loaded before (rejections) when made
                    pipeline.run(SOURCES[vendor].source(), loader_file_format=LOADER_FILE_FORMAT)
                schemas[vendor] = into_lake.default_schema
    statements = [sql for vendor, schema in schemas.items()
                  for sql in registration_sql(schema, vendor, lake, loaded_tables(lake, vendor))]
    tables = sorted((vendor, t["name"]) for vendor, schema in schemas.items() for t in schema.data_tables()
                    if t["name"] in loaded_tables(lake, vendor) and not t["name"].startswith("_"))
    out = tmp_path / "from-spark"
    conf = session_conf(spark_place.cluster.master_url, spark_place.metastore, spark_place.lake, cores=2)
    run_app(conf, f"""
        for sql in {json.dumps(statements)}:
            spark.sql(sql)
        for vendor, table in {json.dumps(tables)}:
            spark.table(f"`{{vendor}}`.`{{table}}`").write.parquet(f"{out}/{{vendor}}.{{table}}")
        print(json.dumps(None))
    """)
    versions = 0
    with warehouse.connect() as con:
        for vendor, table in tables:
            merged = rows(con, f'select * from "{vendor}"."{table}"')
            viewed = rows(con, f"select * from read_parquet('{out}/{vendor}.{table}/*.parquet')")
            assert set(viewed[0]) == set(merged[0]), (vendor, table)
            order = [viewed[0].index(name) for name in merged[0]]
            assert sorted((tuple(r[i] for i in order) for r in viewed[1]), key=repr) == merged[1], (vendor, table)
            logged = con.execute(f"select count(*) from read_parquet('{lake}/{vendor}/{table}/*.parquet')").fetchone()
            versions += logged[0] - len(merged[1])
        resolved = con.execute(f"select count(*) from read_parquet('{lake}/clickmagick/rejected_records/*.parquet') "
                               "where resolved").fetchone()[0]
        still_rejected = con.execute("select count(*) from clickmagick.rejected_records").fetchone()[0]
    assert len(tables) > 20 and ("clickmagick", "rejected_records") in tables
    assert versions > 0  # the log holds restated versions that the views left out
    assert spoiled and resolved == 1 and still_rejected == 0  # a rejection, resolved: hard-deleted in both
