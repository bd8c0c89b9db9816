"""A schema's tables read out of a Spark warehouse for a reader on one machine (the publication): each table as
Arrow, through the driver (the files may live where only the cluster reaches: object storage, HDFS), with the
comments dbt wrote to the catalog (persist_docs)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from warehouse.spark_catalog import spark_session
from warehouse.spark_lake import quoted


@dataclass
class SparkTable:
    name: str
    rows: Any  # a pyarrow.Table
    comment: str | None = None
    column_comments: dict[str, str] = field(default_factory=dict)


def read_tables(conf: dict[str, str], schema: str) -> Iterator[SparkTable]:
    """Every table of `schema`, in name order, one at a time, in one Spark application with settings `conf`."""
    spark = spark_session(conf, "attribution-read")
    try:
        for table in sorted(spark.catalog.listTables(schema), key=lambda t: t.name):
            columns = spark.catalog.listColumns(f"{quoted(schema)}.{quoted(table.name)}")
            yield SparkTable(table.name, spark.table(f"{quoted(schema)}.{quoted(table.name)}").toArrow(),
                             table.description or None, {c.name: c.description for c in columns if c.description})
    finally:
        spark.stop()
