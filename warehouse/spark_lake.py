"""The Spark kind's raw layer: what dlt loaded, as the dbt project expects to find it, without a table format.

dlt's `filesystem` destination writes each vendor's tables as Parquet files into the lake, one or more per load,
and never rewrites one: a `merge` falls back to `append`, so each load adds a version of every record it
carries (Delta and Iceberg, which would merge, cannot be read by this Spark: their jars come from Maven). Each
table is registered in the metastore twice:

    <vendor>.<table>__log   an external Parquet table over every file: every version of every load
    <vendor>.<table>        a view of what DuckDB's merged table holds after the same loads

The view reads only loads that completed (in `<vendor>._dlt_loads` with status 0: a load cut off midway leaves
files no view reads, and the next run loads them again); of a `merge` table, the newest version of each primary
key, none where that version is hard-deleted (a resolved rejection); of a nested table, the rows of its
parent's rows in the parent's view (a child has no load id of its own: it follows the parent version it came
with). `append` and `replace` tables (dlt's replace deletes the old files) keep every row of completed loads.
Two versions of one key in one load are not ordered: any one is kept, as DuckDB's merge keeps any one.

Registering takes a Spark application (~40 s here), so the runner registers a vendor only when what it would
register changed: its dlt schema (a new table or column) or which tables have files. What was registered is a
property of the vendor's database in the metastore, read straight from the metastore's Postgres (no Spark).
New files of a registered table need nothing: each Spark application lists the table's files anew.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from pathlib import Path

from dlt_adapter import LOADS_TABLE, Schema, primary_key, write_disposition
from warehouse.spark_catalog import HiveMetastore, create_schema, spark_session

LOG_SUFFIX = "__log"
REGISTERED = "attribution.registered"  # the database property that says what was registered
REGISTRATION_APP = "attribution-register"
# Registering is catalog work and reading Parquet footers (a log's columns, merged): the runner's driver does it
# alone, in local mode, rather than ask the cluster for executors that would start and stop idle (on YARN or
# Kubernetes, a wait for containers each run that registers). The metastore and the lake are the cluster's.
REGISTRATION_MASTER = "local[1]"


def quoted(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def relation(dataset: str, table: str) -> str:
    return f"{quoted(dataset)}.{quoted(table)}"


def string_literal(text: str) -> str:
    """Spark SQL's string literal of `text` (a backslash escapes)."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def table_location(raw: Path, dataset: str, table: str) -> str:
    """Where dlt's filesystem destination writes `dataset.table` under the raw directory (its default layout), as
    a Spark SQL literal."""
    return string_literal(str(raw / dataset / table))


def hard_delete_columns(schema: Schema, table: str) -> list[str]:
    return [name for name, column in schema.get_table(table)["columns"].items() if column.get("hard_delete")]


def current_view_sql(schema: Schema, dataset: str, table: str) -> str:
    """The view of `table` that equals DuckDB's merged table after the same loads."""
    log = relation(dataset, table + LOG_SUFFIX)
    parent = schema.get_table(table).get("parent")
    if parent:
        return (f"select c.* from {log} as c left semi join {relation(dataset, parent)} as p "
                f"on c._dlt_parent_id = p._dlt_id")
    completed = (f"select * from {log} where _dlt_load_id in "
                 f"(select load_id from {relation(dataset, LOADS_TABLE)} where status = 0)")
    keys = primary_key(schema, table)
    if write_disposition(schema, table) != "merge" or not keys:
        return completed
    kept = " and ".join(f"not coalesce({quoted(column)}, false)" for column in hard_delete_columns(schema, table))
    newest = (f"select * from ({completed}) qualify row_number() over "
              f"(partition by {', '.join(quoted(k) for k in keys)} order by _dlt_load_id desc) = 1")
    return f"select * from ({newest}) where {kept}" if kept else newest


def registration_sql(schema: Schema, dataset: str, raw: Path, loaded: set[str]) -> Iterator[str]:
    """Spark SQL that (re)registers every data table of `schema` that has files (`loaded`), and dlt's loads
    table, in database `dataset`: parents before children, each view after the tables it reads. Re-running it
    after a load is how a new column reaches the catalog (the log is re-read with mergeSchema)."""
    yield f"create database if not exists {quoted(dataset)}"
    yield f"drop table if exists {relation(dataset, LOADS_TABLE)}"
    yield (f"create table {relation(dataset, LOADS_TABLE)} using json "
           f"location {table_location(raw, dataset, LOADS_TABLE)}")
    for table in schema.data_tables():  # dlt lists a parent before its children
        name = table["name"]
        if name not in loaded:
            continue
        yield f"drop view if exists {relation(dataset, name)}"
        yield f"drop table if exists {relation(dataset, name + LOG_SUFFIX)}"
        yield (f"create table {relation(dataset, name + LOG_SUFFIX)} using parquet options (mergeSchema 'true') "
               f"location {table_location(raw, dataset, name)}")
        yield f"create view {relation(dataset, name)} as {current_view_sql(schema, dataset, name)}"


def loaded_tables(raw: Path, dataset: str) -> set[str]:
    """The tables of `dataset` that dlt has written a file for (a table with no rows yet may have none, and
    Spark cannot read a directory without one)."""
    root = raw / dataset
    return {path.name for path in root.iterdir() if path.is_dir() and any(path.glob("*.parquet"))} \
        if root.is_dir() else set()


def registration_mark(schema: Schema, loaded: set[str]) -> str:
    return hashlib.sha256(json.dumps([schema.version_hash, sorted(loaded)]).encode()).hexdigest()[:16]


def registered_marks(metastore: HiveMetastore) -> dict[str, str] | None:
    """Each database's registration mark, from Hive's own tables (DBS, DATABASE_PARAMS) in Postgres; None when
    the database holds no metastore yet."""
    import psycopg

    with psycopg.connect(metastore.conninfo(), password=metastore.password or None) as conn:
        if conn.execute("select to_regclass('\"DBS\"')").fetchone()[0] is None:
            return None
        rows = conn.execute('select d."NAME", p."PARAM_VALUE" from "DBS" d join "DATABASE_PARAMS" p '
                            'on p."DB_ID" = d."DB_ID" where p."PARAM_KEY" = %s', [REGISTERED]).fetchall()
    return dict(rows)


def register(conf: dict[str, str], metastore: HiveMetastore, raw: Path, schemas: dict[str, Schema]) -> list[str]:
    """(Re)registers each dataset of `schemas` (vendor -> dlt schema) whose tables changed since it was last
    registered, in one Spark application with settings `conf`; none when nothing changed. Returns those
    registered. An empty metastore database gets Hive's schema first."""
    marks = registered_marks(metastore)
    if marks is None:
        create_schema(metastore)
        marks = {}
    stale = {}
    for dataset, schema in schemas.items():
        loaded = loaded_tables(raw, dataset)
        if marks.get(dataset) != (mark := registration_mark(schema, loaded)):
            stale[dataset] = (schema, loaded, mark)
    if not stale:
        return []
    # the JVM starts only when something is to be registered, in local mode: see REGISTRATION_MASTER
    spark = spark_session({**conf, "spark.master": REGISTRATION_MASTER}, REGISTRATION_APP)
    try:
        for dataset, (schema, loaded, mark) in stale.items():
            for sql in registration_sql(schema, dataset, raw, loaded):
                spark.sql(sql)
            spark.sql(f"alter database {quoted(dataset)} set dbproperties "
                      f"({string_literal(REGISTERED)} = {string_literal(mark)})")
    finally:
        spark.stop()
    return sorted(stale)


class ExpectedAppendFallback(logging.Filter):
    """dlt's filesystem destination warns, for every table with a merge disposition, that it appends instead,
    and that a hard-delete hint is then ignored: on the lake that is the design (a log of versions; the
    registered views merge and leave hard-deleted keys out), not news for the user."""

    EXPECTED = ("Falling back to `append`", 'hint is only applied when using the "merge" write disposition')

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not any(expected in message for expected in self.EXPECTED)


def quiet_expected_append_fallback() -> None:
    logger = logging.getLogger("dlt")
    if not any(isinstance(f, ExpectedAppendFallback) for f in logger.filters):
        logger.addFilter(ExpectedAppendFallback())
