{#- A JSON object of `key` -> `value` over the group, its keys in order: DuckDB's json_group_object keeps the
    order its input arrived in, which varies from build to build, and a payload sent to a vendor must be the same
    (with the same content hash in the push ledger) whenever its content is. An aggregate over a group whose keys
    are distinct (a map's are). -#}
{% macro ordered_json_object(key, value) -%}
    {{- return(adapter.dispatch('ordered_json_object')(key, value)) -}}
{%- endmacro %}

{#- The entries collected, then sorted (by key: the keys are distinct), as on Spark: an aggregate with its own
    ORDER BY keeps a sort per group, and over ConvertLoop's 579k conversions of scale 1350 it ran out of memory at
    512 MB; collected and sorted, it takes 2.2 s and ~0.4 GB there. -#}
{% macro default__ordered_json_object(key, value) -%}
    to_json(map_from_entries(list_sort(list(({{ key }}, {{ value }})))))
{%- endmacro %}

{#- Spark: array_sort orders the (key, value) structs by key first; to_json writes a map in its entries' order. -#}
{% macro spark__ordered_json_object(key, value) -%}
    to_json(map_from_entries(array_sort(collect_list(struct({{ key }}, {{ value }})))))
{%- endmacro %}
