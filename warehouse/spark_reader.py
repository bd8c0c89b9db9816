"""A schema's tables read out of a Spark warehouse for a reader on one machine (the publication, the push): each
table as Arrow, through the driver (the files may live where only the cluster reaches: object storage, HDFS), with
the comments dbt wrote to the catalog (persist_docs), into a DuckDB database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import duckdb

from warehouse.kinds import literal, quote
from warehouse.spark_catalog import spark_session
from warehouse.spark_lake import quoted


@dataclass
class SparkTable:
    name: str
    rows: Any  # a pyarrow.Table
    comment: str | None = None
    column_comments: dict[str, str] = field(default_factory=dict)


READER_APP = "attribution-read"  # the application's name on the cluster
_shared: list[Any] = []  # inside one_application: [None] until a read starts it, then [its session]


@contextmanager
def one_application() -> Iterator[None]:
    """The reads inside (a run's publication and push) share one Spark application, started by the first read with
    its settings (none if nothing reads Spark) and stopped at the end: each application costs ~20 s here."""
    _shared.append(None)
    try:
        yield
    finally:
        spark = _shared.pop()
        if spark is not None:
            spark.stop()


def _session(conf: dict[str, str]) -> tuple[Any, bool]:
    """The shared application inside one_application, else a new one; whether the caller stops it."""
    if not _shared:
        return spark_session(conf, READER_APP), True
    if _shared[-1] is None:
        _shared[-1] = spark_session(conf, READER_APP)
    return _shared[-1], False


def read_tables(conf: dict[str, str], schema: str) -> Iterator[SparkTable]:
    """Every table of `schema`, in name order, one at a time, in one Spark application with settings `conf`."""
    spark, owned = _session(conf)
    try:
        for table in sorted(spark.catalog.listTables(schema), key=lambda t: t.name):
            columns = spark.catalog.listColumns(f"{quoted(schema)}.{quoted(table.name)}")
            yield SparkTable(table.name, spark.table(f"{quoted(schema)}.{quoted(table.name)}").toArrow(),
                             table.description or None, {c.name: c.description for c in columns if c.description})
    finally:
        if owned:
            spark.stop()


def copy_tables(conf: dict[str, str], schema: str, con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every table of `schema` (read_tables) into the schema of the same name in `con` (which must exist),
    replacing a table of the same name, with its comments; their names, in order."""
    copied = []
    for table in read_tables(conf, schema):
        name = f"{quote(schema)}.{quote(table.name)}"
        con.register("spark_table", table.rows)
        con.execute(f"create or replace table {name} as select * from spark_table")
        con.unregister("spark_table")
        if table.comment:
            con.execute(f"comment on table {name} is {literal(table.comment)}")
        for column, comment in table.column_comments.items():
            con.execute(f"comment on column {name}.{quote(column)} is {literal(comment)}")
        copied.append(table.name)
    return copied
