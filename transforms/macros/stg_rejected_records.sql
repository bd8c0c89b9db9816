{#-
  A vendor's records that did not fit their documented column types (sources.common.contract): one row
  per record and column still waiting for a value that fits. Every vendor's staging model is this macro.
-#}
{% macro stg_rejected_records(vendor) -%}
select
    table_name,
    record_id,
    column_name,
    expected_type,
    raw_value,
    reason,
    rejected_at
from {{ source_or_empty(vendor, 'rejected_records', {
    'table_name': 'varchar', 'record_id': 'varchar', 'column_name': 'varchar', 'expected_type': 'varchar',
    'raw_value': 'varchar', 'reason': 'varchar', 'rejected_at': 'timestamptz'}) }}
{%- endmacro %}
