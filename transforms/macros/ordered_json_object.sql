{#- A JSON object of `key` -> `value` over the group, its keys in order: DuckDB's json_group_object keeps the
    order its input arrived in, which varies from build to build, and a payload sent to a vendor must be the same
    (with the same content hash in the push ledger) whenever its content is. An aggregate. -#}
{% macro ordered_json_object(key, value) -%}
    {{- return(adapter.dispatch('ordered_json_object')(key, value)) -}}
{%- endmacro %}

{% macro default__ordered_json_object(key, value) -%}
    to_json(map_from_entries(list(({{ key }}, {{ value }}) order by {{ key }})))
{%- endmacro %}

{#- Spark: array_sort orders the (key, value) structs by key first; to_json writes a map in its entries' order. -#}
{% macro spark__ordered_json_object(key, value) -%}
    to_json(map_from_entries(array_sort(collect_list(struct({{ key }}, {{ value }})))))
{%- endmacro %}
