"""The dbt macro `source_or_empty` (nested tables dlt creates with their first rows: Webmarketer's trash errors,
ClickMagick's credits; rejected records, schema drift) reads a table that exists, though dbt's relation cache
says otherwise: dbt marks a schema cached as soon as one thread lists its first relation, so another thread
compiling at that moment saw Webmarketer's schema without `trashed_events__errors`, and the staging view joined
an empty relation (every trashed event without its errors; a Dagster run's marts differed from the runner's)."""

from __future__ import annotations

import duckdb

from tests.warehouse import dbt_show
from warehouse import Warehouse

ERRORS = {"error_type": "varchar", "field_storage_key": "varchar", "field_entity": "varchar", "field_type": "varchar",
          "value": "varchar", "_dlt_parent_id": "varchar"}


def test_a_table_missing_from_a_partly_cached_schema_is_still_read(tmp_path):
    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema webmarketer")
        con.execute("create table webmarketer.trashed_events (id varchar)")
        con.execute("create table webmarketer.trashed_events__errors (error_type varchar, _dlt_parent_id varchar)")
        con.execute("insert into webmarketer.trashed_events__errors values ('invalid-type', 'p1')")
    # the schema cached with one of its relations, as while another thread is still adding the rest
    listed = "api.Relation.create(database='w', schema='webmarketer', identifier='trashed_events', type='table')"
    sql = (f"{{% do adapter.cache_added({listed}) %}}"
           f"select error_type from {{{{ source_or_empty('webmarketer', 'trashed_events__errors', {ERRORS}) }}}} "
           "union all select 'absent: ' || count(*) "
           f"from {{{{ source_or_empty('webmarketer', 'outlays', {{'x': 'varchar'}}) }}}}")
    assert dbt_show(Warehouse(str(path)), sql) == [{"error_type": "invalid-type"}, {"error_type": "absent: 0"}]
