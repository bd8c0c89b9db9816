{#- The vendors, as the sources declared in models/staging/_sources.yml (sorted): the one list that
    per-vendor columns are generated from, so a new vendor needs no edit here or in the marts. -#}
{% macro vendor_names() %}
    {%- set names = [] -%}
    {%- for node in graph.get('sources', {}).values() if node.source_name not in names -%}
        {%- do names.append(node.source_name) -%}
    {%- endfor -%}
    {{ return(names | sort) }}
{% endmacro %}
