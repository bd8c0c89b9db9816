"""A real Spark cluster for the tests that need one: Postgres for the Hive metastore (an empty database), a master
and two 1-core workers on 127.0.0.1; every process stopped by its pid at the end of the session, and checked
stopped (a cluster of its own for that check cost the module ~12 s of one worker: its JVMs' start)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from warehouse.local_postgres import running_postgres
from warehouse.spark_catalog import HiveMetastore
from warehouse.spark_cluster import SparkCluster, local_cluster, process_running


@dataclass(frozen=True)
class SparkPlace:
    cluster: SparkCluster
    metastore: HiveMetastore
    lake: Path


@pytest.fixture(scope="session")
def spark_place(tmp_path_factory) -> Iterator[SparkPlace]:
    with running_postgres() as postgres:
        # an empty database: the runner's first registration creates Hive's schema in it
        metastore = HiveMetastore.from_libpq(postgres.create_database("metastore"))
        with local_cluster(workers=2) as cluster:
            pids = dict(cluster.pids)
            assert set(pids) == {"master", "worker-1", "worker-2"}, pids
            yield SparkPlace(cluster, metastore, tmp_path_factory.mktemp("lake"))
    # Stopping the cluster stops every process (not whether its ports are free: another process may take a freed
    # port at once: seen beside another suite). A failure here is the session's error at teardown.
    assert not [name for name, pid in pids.items() if process_running(pid)], pids
