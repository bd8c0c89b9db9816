"""The local Spark cluster: both workers register, an application runs on both, a table one application
registers in the shared metastore is read by another, and stopping the cluster stops every process."""

from __future__ import annotations

import socket

import pyarrow as pa
import pyarrow.parquet as pq

from tests.spark.apps import run_app
from warehouse.spark_catalog import session_conf
from warehouse.spark_cluster import local_cluster, process_running


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
