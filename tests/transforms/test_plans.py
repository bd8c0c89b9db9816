"""How DuckDB plans the models that read a row per touch: under `memory_limit` it spills aggregates, joins and sorts,
but a window holds its partitions' rows with every column they carry, so a model over every touch must not need one
(the incremental models' own deletes and ledgers are tested in test_incremental and test_diffed_tables)."""

from __future__ import annotations

import math

import duckdb

from tests.warehouse import dbt
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


def test_the_touches_join_every_click_in_buckets_that_follow_the_memory_limit(full_run, tmp_path):
    """`int_touches__unified` joins ClickMagick's clicks to Integr8's in buckets of the transaction id, one per 2M
    clicks at 512 MB (one per 256 bytes of the limit: macros/dialect.sql distinct_buckets): one join over every
    click (4.5M at scale 1350) ran the daily build out of memory at 512 MB, where two buckets built the same rows.
    Here the test world's ClickMagick clicks, with 150,000 more that no Integr8 click matches: compiled under a
    limit sized for three buckets, the model's query returns the rows of its query in one bucket (as the run
    compiled it at 512 MB), clicks with no transaction id at all (in one bucket) included."""
    warehouse = full_run.copy_to(tmp_path)
    in_one = compiled(warehouse, "intermediate/int_touches__unified.sql")
    assert in_one.count("full outer join") == 1
    with duckdb.connect(str(warehouse)) as con:
        con.execute("insert into intermediate.int_clickmagick__clicks select c.* replace ("
                    "'more-' || n || '-' || click_id as click_id, 'more-' || n || '-' || click_id as integr8_tx_id) "
                    "from intermediate.int_clickmagick__clicks as c, range(150000 // (select count(*) from "
                    "intermediate.int_clickmagick__clicks) + 1) as r(n)")
        clicks = con.execute("select (select count(*) from intermediate.int_clickmagick__clicks) "
                             "+ (select count(*) from staging.stg_integr8__clicks)").fetchone()[0]
    limit = f"{math.ceil(clicks * 256 / 2.5 / 1024)}KB"  # 3 buckets of at most limit / 256 clicks
    done = dbt(Warehouse(str(warehouse), memory_limit=limit), "compile", "--select", "int_touches__unified")
    assert done.returncode == 0, done.stdout + done.stderr
    in_three = compiled(warehouse, "intermediate/int_touches__unified.sql")
    assert in_three.count("full outer join") == 3 and "hash(tx_id) % 3 = 2" in in_three, in_three
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute(f"select count(*) from ({in_one}) where integr8_tx_id is null "
                           "and clickmagick_click_id is not null").fetchone()[0] > 0
        for first, second in ((in_one, in_three), (in_three, in_one)):
            assert con.execute(f"select count(*) from (({first}) except all ({second}))").fetchone()[0] == 0
        assert con.execute(f"select count(*) from ({in_three})").fetchone()[0] > 150_000
