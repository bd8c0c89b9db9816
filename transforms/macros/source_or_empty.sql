{#-
  A source table, or an empty relation with the given columns when the table does not exist yet.
  dlt creates nested tables (ClickMagick credits, Webmarketer trash errors) only once they receive
  rows, so a young account would otherwise fail the whole build. "Does not exist" is the database's
  answer, not only dbt's relation cache: dbt marks a schema cached once a thread has added its first
  listed relation, so a model compiled beside it saw an existing table as missing.
-#}
{% macro source_or_empty(source_name, table_name, columns) -%}
    {%- set declared = source(source_name, table_name) -%}
    {%- set relation = load_relation(declared) if execute else declared -%}
    {%- if relation is none and adapter.get_columns_in_relation(declared) -%}
        {%- set relation = declared -%}
    {%- endif -%}
    {%- if relation is not none -%}
        {{- return(relation) -}}  {#- the relation itself, not its name: newest_rows reads its row ids -#}
    {%- endif -%}
    {%- set empty -%}
        (select {{ typed_nulls(columns) }} where false)
    {%- endset -%}
    {{- return(empty) -}}
{%- endmacro %}

{#- `cast(null as <type>) as <name>, ...` for {name: type} (sql_type's names): the columns of an empty relation. -#}
{% macro typed_nulls(columns) -%}
    {%- for name, type in columns.items() %}cast(null as {{ sql_type(type) }}) as {{ adapter.quote(name) }}{{ ", " if not loop.last }}{% endfor -%}
{%- endmacro %}
