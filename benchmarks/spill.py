"""The models that read every row of a large table, built from their compiled SQL at a small DuckDB memory limit.

DuckDB spills aggregates, joins and sorts to disk, but a window carries every column of its rows in memory
(ClickMagick's 5.9M credits and 3.6M touches at scale 1350 ran the build out of memory at 1 and 2 GB, #32).
Synthetic tables of real width stand in for the loaded ones, about a third of scale 1350's rows: each model
ran out of memory at its limit before `newest_rows` and the narrow journey numbering (commit 54a95ae), and builds
now. The data-driven credit and ConvertLoop's events, at about scale 1350's rows (1.8M converting touches, 600k
orders), ran out of memory at their limits (and at 512 MB) before their windows became aggregates joined back and
the ordered aggregate a sorted list (2026-12-04), and build now; the journeys still build since they are numbered by
position (`number_within`), which scale 1350's real journeys needed at 512 MB. A memory target, so a bench
(`--only spill`), not a test: at half these rows and limits old and new code alike fail or pass by chance, and
writing the rows costs a minute."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import duckdb

from pipelines.transform import dbt_command, dbt_cwd, dbt_environment
from warehouse import Warehouse

WIDE = "repeat('x', 60) || i"  # a string column of real width: DuckDB inlines strings of 12 bytes or fewer

# model, its memory limit, the rows it must build
CASES = [
    ("stg_clickmagick__credits", "150MB", 1_800_000),  # every credit once
    ("stg_integr8__clicks", "150MB", 800_000),  # each click's newest version from a completed load
    ("int_journeys__assembled", "250MB", 1_200_000),  # every touch in one journey
    ("int_attribution__data_driven", "400MB", 8_400_000),  # each converting touch per model, split channels
    ("outbox_convertloop__events", "512MB", 600_000),  # one event per order, its channels' credits as JSON
]


def synthetic_warehouse(path: Path) -> Path:
    """A warehouse with the tables the models read, at about a third of scale 1350's rows and their width."""
    with duckdb.connect(str(path)) as con:
        con.execute("create schema clickmagick; create schema integr8; create schema intermediate")
        for table, rows, offset in [("sales__credits", 1_500_000, 5_100_000), ("actions__credits", 300_000, 6_100_000)]:
            con.execute(f"""
                create table clickmagick.{table} as
                select {offset} + i // 6 as conversion_id, ['first_click', 'last_click', 'linear'][1 + i % 3]
                       as attribution_model, i // 2 as click_id, timestamptz '2026-01-01' + to_seconds(i)
                       as click_timestamp, 1 / 3 as share, 'tx' || i as s2, {WIDE} as utm_source,
                       {WIDE} as utm_medium, {WIDE} as utm_campaign, {WIDE} as utm_content, {WIDE} as utm_term,
                       {WIDE} as gclid, null::varchar as msclkid, null::varchar as fbclid, null::varchar as ttclid,
                       'root' || i // 6 as _dlt_root_id, 'id' || i as _dlt_id, {rows} as n
                from range({rows}) as r(i)""")
        # Integr8's clicks: a log of versions, each click in two loads, and some in a third that never completed
        con.execute(f"""
            create table integr8.clicks as
            select 'tx' || i // 2 as real_tx_id, timestamptz '2026-01-01' + to_seconds(i) as click_time,
                   'int1' as integration_id, 'adv' as advertiser, {WIDE} as offer, 'o1' as offer_id,
                   {WIDE} as publisher, 'p1' as publisher_id, {WIDE} as sub_id, 'dev' || i // 20 as device_id,
                   '10.0.0.1' as click_ip, {WIDE} as user_agent, 'US' as country, false as is_bot,
                   'APPROVED' as status, null::varchar as rejection_reason, 0.5 as payout, {WIDE} as gclid,
                   null::varchar as msclkid, null::varchar as fbclid, null::varchar as ttclid,
                   ['1790000000.1', '1790000500.2', '1790000900.3'][1 + i % 2 + (i % 10 = 1)::int] as _dlt_load_id
            from range(1_600_000) as r(i)""")
        con.execute("""create table integr8._dlt_loads as
                       select * from (values ('1790000000.1', 0), ('1790000500.2', 0)) as l(load_id, status)""")
        # a person's touches and conversions, as the stitched intermediate tables hold them
        con.execute(f"""
            create table intermediate.int_touches__classified as
            select 'i8:tx' || i as touch_id, timestamptz '2026-01-01' + to_seconds(i * 7 % 5000000) as touched_at,
                   {WIDE} as source, {WIDE} as medium, {WIDE} as campaign, {WIDE} as content, {WIDE} as term,
                   {WIDE} as publisher, {WIDE} as offer, 'o1' as offer_id, {WIDE} as gclid, null::varchar as msclkid,
                   null::varchar as fbclid, null::varchar as ttclid, 0.5 as cost, null::varchar as clickmagick_click_id,
                   'tx' || i as integr8_tx_id, ['integr8'] as seen_by, 'dev:' || i // 4 as person_node,
                   'person' || i // 4 as person_id, 'affiliate' as channel
            from range(1_200_000) as r(i)""")
        con.execute("""
            create table intermediate.int_conversions__deduplicated as
            select 'c' || i as conversion_id, 'person' || i * 2 as person_id,
                   timestamptz '2026-01-01' + to_seconds(i * 31 % 5000000) as converted_at
            from range(150_000) as r(i)""")
        # the data-driven models' inputs: converting touches on 8 channels, channel weights, a pattern per conversion
        con.execute("""
            create table intermediate.int_journeys__transformed as
            select 'c' || i // 3 as conversion_id, 'i8:tx' || i as touch_id, 'channel' || (i * 7 % 8) as channel
            from range(1_800_000) as r(i)""")
        con.execute("""
            create table intermediate.int_journeys__patterned as
            select 'c' || i as conversion_id, 'pattern' || (i % 500) as pattern from range(600_000) as r(i)""")
        for model in ("markov", "shapley_simplified"):
            con.execute(f"""create table intermediate.int_channel_weights__{model} as
                            select 'channel' || i as channel, (i + 1) / 36 as share from range(8) as r(i)""")
        con.execute("""
            create table intermediate.int_channel_weights__shapley as
            select 'pattern' || p as pattern, 'channel' || c as channel, 1 / 8 as share
            from range(500) as r(p), range(8) as k(c)""")
        # what ConvertLoop's events read: the orders, each person's contacts, the default model's credits
        con.execute("create schema marts")
        con.execute("""
            create table marts.conversions as
            select 'c' || i as conversion_id, 'ORD-' || i as order_ref, 'person' || i as person_id,
                   'sale' as conversion_type, timestamptz '2026-01-01' + to_seconds(i * 31) as converted_at,
                   49.5 as revenue, 'USD' as currency, 'completed' as status
            from range(600_000) as r(i)""")
        con.execute("""
            create table intermediate.int_people__contacts as
            select 'person' || i as person_id, 'customer' || i || '@example.com' as email, null::varchar as user_id
            from range(600_000) as r(i)""")
        con.execute("""
            create table marts.attribution as
            select 'c' || i // 3 as conversion_id, 'channel' || (i * 7 % 8) as channel, 1 / 3 as credit,
                   'shapley' as attribution_model
            from range(1_800_000) as r(i)""")
    return path


def compiled(warehouse: Warehouse, models: list[str]) -> dict[str, str]:
    """Each model's compiled select against `warehouse` (one `dbt compile`; staging models are views, so their
    SQL, not a relation, is what a build runs)."""
    env = dbt_environment(warehouse)
    done = subprocess.run(dbt_command("compile", "--select", *models), env=env, cwd=dbt_cwd(warehouse),
                          capture_output=True, text=True, timeout=300)
    if done.returncode:
        raise RuntimeError(f"dbt compile failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    target = Path(dbt_cwd(warehouse), env["DBT_TARGET_PATH"], "compiled", "attribution", "models")
    return {model: next(target.rglob(f"{model}.sql")).read_text() for model in models}


def built_rows(warehouse: Path, sql: str, memory_limit: str) -> int:
    """Rows of `sql` written to a table at `memory_limit` with two threads, as dbt's `table` materialization does."""
    with duckdb.connect(str(warehouse)) as con:
        con.execute(f"set memory_limit = '{memory_limit}'; set threads = 2")
        con.execute(f"create or replace table main.built as {sql}")
        return con.execute("select count(*) from main.built").fetchone()[0]


def bench_spill(work: Path, report: Callable[[str, str], None]) -> None:
    print("the models over every row at a small memory limit (writing 5M synthetic rows) ...", flush=True)
    warehouse = synthetic_warehouse(work / "spill.duckdb")
    models = compiled(Warehouse(str(warehouse)), [model for model, _, _ in CASES])
    for model, memory_limit, rows in CASES:
        try:
            built = built_rows(warehouse, models[model], memory_limit)
            outcome = f"{built:,} rows built: " + ("met" if built == rows else f"NOT MET (expected {rows:,} rows)")
        except duckdb.OutOfMemoryException:
            outcome = "out of memory: NOT MET"
        report(f"{model} at memory_limit {memory_limit} (target: builds)", outcome)
