"""The warehouse: the bottom floor that sources, pipelines, destinations, the dashboard and benchmarks stand on.
It imports none of them.

    kinds.py         what a warehouse is (a DuckDB file or a DuckLake), its dlt destination, dbt target, readers
    libpq.py         libpq's key=value settings (a DuckLake's Postgres catalog, Spark's metastore), password hidden
    lock.py          one writer per warehouse
    extensions.py    the DuckDB extensions a kind needs, installed offline from PyPI where there
    lake.py          DuckLake connections that check those extensions once per process
    capabilities.py  dlt destination factories that resolve their capabilities once
    project.py       the dbt project readers need to know about: the attribution models
    publication.py   where readers find the published marts
    spark_cluster.py a standalone Spark cluster on this machine (master, workers), each process stopped by its pid
    spark_catalog.py Spark's shared catalog (a Hive metastore in Postgres) and an application's settings
    spark_lake.py    the raw layer on Spark: dlt's append-only Parquet, and views that read it as merged tables
"""

from warehouse.kinds import (
    DEFAULT_WAREHOUSE,
    LOADER_FILE_FORMAT,
    Warehouse,
    WarehouseConfigError,
    as_warehouse,
    literal,
    make_pipeline,
    pipelines_dir,
    quote,
    table_exists,
)

__all__ = ["DEFAULT_WAREHOUSE", "LOADER_FILE_FORMAT", "Warehouse", "WarehouseConfigError", "as_warehouse", "literal",
           "make_pipeline", "pipelines_dir", "quote", "table_exists"]
