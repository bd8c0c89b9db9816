{#-
  The current rows of a table dlt appends to (Integr8's event logs): of each key, the version of the
  newest completed load. A load killed before dlt recorded it in `_dlt_loads` (status 0) is left out until
  its re-run completes it. Load ids are UNIX times as text with ten integer digits, so they sort as text.
-#}
{% macro latest_loaded(source_name, table_name, key) -%}
    {{ newest_rows(source(source_name, table_name), [key], newest_by=['_dlt_load_id'],
                   where="_dlt_load_id in (select load_id from " ~ source(source_name, '_dlt_loads') ~ " where status = 0)") }}
{%- endmacro %}
