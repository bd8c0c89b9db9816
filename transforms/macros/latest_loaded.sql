{#-
  The current rows of a table dlt appends to (Integr8's event logs): of each key, the version of the
  newest completed load. A load killed before dlt recorded it in `_dlt_loads` (status 0) is left out until
  its re-run completes it.
-#}
{% macro latest_loaded(source_name, table_name, key) -%}
    {{ newest_rows(source(source_name, table_name), [key], newest_by=[load_order()],
                   where="_dlt_load_id in (select load_id from " ~ source(source_name, '_dlt_loads') ~ " where status = 0)") }}
{%- endmacro %}


{#- A load's place in time, for newest_rows: dlt's load ids are UNIX times as text (ten integer digits, seven
    decimals), exact as a decimal of fixed size. DuckDB spills the aggregate that ranks by it; ranked by the text,
    its states hold strings, and Integr8's 2.5M click versions at scale 1350 ran it out of memory at 512MB. -#}
{% macro load_order(column='_dlt_load_id') -%}
    cast({{ column }} as decimal(18, 7))
{%- endmacro %}
