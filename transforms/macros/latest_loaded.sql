{#-
  The current rows of a table dlt appends to (Integr8's event logs): of each key, the version of the
  newest completed load. A load killed before dlt recorded it in `_dlt_loads` (status 0) is left out until
  its re-run completes it. Load ids are UNIX times as text with ten integer digits, so they sort as text.
-#}
{% macro latest_loaded(source_name, table_name, key) -%}
    (
        select logged.*
        from {{ source(source_name, table_name) }} as logged
        semi join {{ source(source_name, '_dlt_loads') }} as loads
            on logged._dlt_load_id = loads.load_id and loads.status = 0
        qualify row_number() over (partition by logged.{{ key }} order by logged._dlt_load_id desc) = 1
    )
{%- endmacro %}
