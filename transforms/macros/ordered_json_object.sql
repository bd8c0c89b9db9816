{#- A JSON object of `key` -> `value` over the group, its keys in order: DuckDB's json_group_object keeps the
    order its input arrived in, which varies from build to build, and a payload sent to a vendor must be the same
    (with the same content hash in the push ledger) whenever its content is. An aggregate. -#}
{% macro ordered_json_object(key, value) -%}
    to_json(map_from_entries(list(({{ key }}, {{ value }}) order by {{ key }})))
{%- endmacro %}
