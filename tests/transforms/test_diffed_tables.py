"""The large tables a daily build rewrites only where they changed (macros/diffed_table.sql): a build compares the
model's query with the table by its key and rewrites just the rows new, changed or gone, and the table then equals
the query's result; a table whose columns no longer match the query is built whole."""

from __future__ import annotations

import re

import duckdb

from pipelines.fingerprint import table_fingerprints
from tests.warehouse import dbt, dbt_log, logged_statements
from warehouse import Warehouse

MODEL = "int_touches__classified"
TABLE = f"intermediate.{MODEL}"


def fingerprint(warehouse) -> str:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return table_fingerprints(con, ["intermediate"])[TABLE]


def rebuilt(warehouse) -> None:
    done = dbt(Warehouse(str(warehouse)), "run", "--select", MODEL)
    assert done.returncode == 0, done.stdout + done.stderr


def rows_rewritten(warehouse) -> list[int]:
    return [int(n) for n in re.findall(rf'"{MODEL}": (\d+) rows rewritten', dbt_log(warehouse).read_text())]


def test_a_build_rewrites_only_the_rows_that_differ_and_equals_its_query(full_run, tmp_path):
    warehouse = full_run.copy_to(tmp_path)
    built = fingerprint(warehouse)
    with duckdb.connect(str(warehouse)) as con:
        ids = con.execute(f"select touch_id from {TABLE} order by touch_id limit 2").fetchall()
        (first,), (second,) = ids
        con.execute(f"update {TABLE} set channel = 'tampered' where touch_id = ?", [first])  # changed
        con.execute(f"delete from {TABLE} where touch_id = ?", [second])  # gone
        con.execute(f"insert into {TABLE} select * replace ('extra' as touch_id) from {TABLE} "  # not in the query
                    "where touch_id = ?", [first])
    assert fingerprint(warehouse) != built

    rebuilt(warehouse)
    assert fingerprint(warehouse) == built
    assert rows_rewritten(warehouse)[-1:] == [3]
    # The query runs alone into a temporary table and the comparison joins stored rows only: one statement that
    # computed the query while it joined the table's keys ran the daily build at scale 1350 out of memory under
    # 512MB in int_touches__unified, whose query alone builds there.
    statements = logged_statements(dbt_log(warehouse).read_text(), f"model.attribution.{MODEL}")
    upstream = "int_touches__unified"  # what the model's query reads
    queries = [sql for sql in statements if upstream in sql and not sql.startswith("select column_name")]
    compared = [sql for sql in statements if sql.startswith("create") and "__dbt_changed" in sql]
    assert len(queries) == 1 and f'"{MODEL}"' not in queries[0].split(" as\n", 1)[1], queries
    assert len(compared) == 1 and upstream not in compared[0], compared
    rebuilt(warehouse)  # nothing differs now
    assert rows_rewritten(warehouse)[-1:] == [0]
    assert fingerprint(warehouse) == built


def test_a_table_whose_columns_differ_from_its_query_is_built_whole(full_run, tmp_path):
    warehouse = full_run.copy_to(tmp_path)
    built = fingerprint(warehouse)
    with duckdb.connect(str(warehouse)) as con:
        con.execute(f"alter table {TABLE} drop column channel")  # as a model's logic changed since its last build
    rebuilt(warehouse)
    assert fingerprint(warehouse) == built
    assert rows_rewritten(warehouse) == []  # built as a table, not compared
