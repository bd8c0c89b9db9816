{#-
  A vendor's open schema drift (sources.common.drift): one row per table, column and change (`missing`: a
  documented field the vendor stopped sending, whose loaded values were kept; `undocumented`: a field the
  documentation does not have). Every vendor's staging model is this macro.
-#}
{% macro stg_schema_drift(vendor) -%}
select
    table_name,
    column_name,
    change,
    records,
    example_record_id,
    first_seen_at
from {{ source_or_empty(vendor, 'schema_drift', {
    'table_name': 'varchar', 'column_name': 'varchar', 'change': 'varchar', 'records': 'bigint',
    'example_record_id': 'varchar', 'first_seen_at': 'timestamptz'}) }}
{%- endmacro %}
