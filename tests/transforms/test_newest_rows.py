"""The dbt macro `newest_rows` (Integr8's event logs, ClickMagick's conversions and credits) on DuckDB: of two
versions of a key in one load, the later one is current, whatever order DuckDB's threads meet them in."""

from __future__ import annotations

import duckdb

from tests.warehouse import dbt_show
from warehouse import Warehouse

KEYS = 200_000  # enough rows that DuckDB's threads split them


def test_of_two_versions_in_one_load_the_one_stored_last_is_current(tmp_path):
    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema raw")
        con.execute("create table raw.versions (k varchar, loaded integer, v integer)")
        con.execute("insert into raw.versions values "
                    "('a', 1, 1), ('a', 2, 2), ('a', 2, 3), ('b', null, 1), ('b', 1, 2)")
        # a load that sent every key twice: its first versions, then its second (v = 2) in a later block
        con.execute(f"insert into raw.versions select 'k' || i, 5, 1 from range({KEYS}) as r(i)")
        con.execute(f"insert into raw.versions select 'k' || i, 5, 2 from range({KEYS}) as r(i)")
    relation = "api.Relation.create(database='w', schema='raw', identifier='versions')"
    sql = (f"select k, v from {{{{ newest_rows({relation}, ['k'], newest_by=['loaded']) }}}} where k in ('a', 'b') "
           f"union all select 'last of each key', count(*) filter (where v = 2) "
           f"from {{{{ newest_rows({relation}, ['k'], newest_by=['loaded']) }}}} where k like 'k%' "
           f"union all select 'last of each key, no ranking', count(*) filter (where v = 2) "
           f"from {{{{ newest_rows({relation}, ['k']) }}}} where k like 'k%'")
    shown = dbt_show(Warehouse(str(path), memory_limit="2GB"), sql)  # DuckDB on every core
    rows = {row["k"]: row["v"] for row in shown}
    # the newest load's later version; a version without a load ranks below every load
    assert rows == {"a": 3, "b": 2, "last of each key": KEYS, "last of each key, no ranking": KEYS}, rows


def test_a_relation_dbt_build_empty_reads_has_no_rows_to_rank(tmp_path):
    """`dbt build --empty` (a dry run of the project on no rows) reads every ref and source as a subquery of no rows,
    which has no row ids: the staging models of Integr8's logs and ClickMagick's conversions failed ("Referenced
    column rowid not found"). Such a relation takes the window."""
    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema raw")
        con.execute("create table raw.versions as select 'a' as k, 1 as loaded, 1 as v")
    relation = "api.Relation.create(database='w', schema='raw', identifier='versions', limit=0)"  # as --empty makes it
    shown = dbt_show(Warehouse(str(path)), f"select count(*) as n from {{{{ newest_rows({relation}, ['k'], "
                                           f"newest_by=['loaded']) }}}}")
    assert shown == [{"n": 0}], shown
