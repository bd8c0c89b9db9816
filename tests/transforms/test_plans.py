"""How DuckDB plans the models that read a row per touch: under `memory_limit` it spills aggregates, joins and sorts,
but a window holds its partitions' rows with every column they carry, so a model over every touch must not need one
(the incremental models' own deletes and ledgers are tested in test_incremental and test_diffed_tables)."""

from __future__ import annotations

import duckdb

from warehouse import Warehouse


def compiled(warehouse, path: str) -> str:
    return (Warehouse(str(warehouse)).dbt_dir() / "target" / "compiled" / "attribution" / "models" / path).read_text()


def test_the_attribution_mart_reads_every_converting_touch_without_a_window(full_run):
    """The mart's first copy of each conversion's touch (its two tables: macros/attribution_rows.sql): a window over
    every converting touch ran the daily build at scale 1350 out of memory at 512MB (its rows with every column held
    at once), where an aggregate joined back builds."""
    for rows_of in ("heuristic", "data_driven"):
        sql = compiled(full_run.warehouse, f"intermediate/int_attribution__{rows_of}_joined.sql")
        with duckdb.connect(str(full_run.warehouse), read_only=True) as con:
            plan = "\n".join(row[1] for row in con.execute("explain " + sql).fetchall())
        assert "int_journeys__transformed" in sql
        assert "WINDOW" not in plan, plan


def test_the_journeys_number_every_touch_under_no_other_window_over_the_touches(full_run):
    """Journeys: the window numbering every touch (macros/dialect.sql: number_within) and the window over each
    person's conversions (the previous one) are the plan's only windows. An open journey's end as a window over the
    person's touches as well, under the numbering one, held the touches with the columns both carry and ran a full
    build at scale 1350 out of memory at 512MB, where an aggregate joined back builds (2026-12-06)."""
    sql = compiled(full_run.warehouse, "intermediate/int_journeys__assembled.sql")
    with duckdb.connect(str(full_run.warehouse), read_only=True) as con:
        plan = "\n".join(row[1] for row in con.execute("explain " + sql).fetchall())
    assert plan.count("WINDOW") == 2, plan
