{#-
  Of each `key`, the newest row of `relations`: a relation, or with `tag`, {tag value: relation} read as one
  (union by name) with the tag value in the column `tag` (ClickMagick's sales, actions and engagements). Newest by the
  columns `newest_by` in turn, each descending with NULL last, as `row_number() over (partition by key order by
  ... desc nulls last) = 1`. Ties (two versions of a key in one load), and an empty `newest_by`, keep the row stored
  last on DuckDB (the later of a vendor's versions: a table keeps the order rows were appended in), so the same
  data always give the same rows; on other engines any one row. `where` (SQL over a relation's
  columns) leaves rows out before the newest is picked. `columns` ({name: type}): those of a relation that may be
  source_or_empty's empty relation (union_all_by_name).
-#}
{% macro newest_rows(relations, key, newest_by=[], tag=none, where=none, columns=none) -%}
    {%- set parts = relations.items() | list if tag else [(none, relations)] -%}
    {{- return(adapter.dispatch('newest_rows')(parts, key, newest_by, tag, where, columns)) -}}
{%- endmacro %}

{#- Any engine: a window over every column of every row. DuckDB's window does not spill that payload (out of
    memory at 1 GB over ClickMagick's 5.9M credits at scale 1350). -#}
{% macro default__newest_rows(parts, key, newest_by, tag, where, columns) -%}
    (
        select *
        from (
            {{- union_all_by_name(parts, tag, where, columns) }}
        )
        qualify row_number() over (
            partition by {{ key | join(', ') }}
            order by {% for column in newest_by %}{{ column }} desc nulls last, {% endfor %}1
        ) = 1
    )
{%- endmacro %}

{#- DuckDB: the newest row of each key is found from the keys, the ranking columns and DuckDB's row ids alone
    (an aggregate, which spills), and the rows are read once more by row id (a semi-join on integers). A unit
    test's fixture (a CTE) and a relation `dbt build --empty` reads (a subquery of no rows) have no row ids: they
    take the window, which ranks alike. source_or_empty's empty relation
    (text, not a relation) has no rows to rank. -#}
{% macro duckdb__newest_rows(parts, key, newest_by, tag, where, columns) -%}
    {%- set ranked = [] -%}
    {%- for value, relation in parts -%}
        {%- if relation is not string -%}
            {%- if relation.is_cte or relation.limit is not none -%}
                {{- return(default__newest_rows(parts, key, newest_by, tag, where, columns)) -}}
            {%- endif -%}
            {%- do ranked.append((loop.index0, relation)) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if not ranked -%}
        {{- return(default__newest_rows(parts, key, newest_by, tag, where, columns)) -}}
    {%- endif -%}
    {#- a row's number across the relations: its row id times their count, plus the relation's place -#}
    {%- set count = parts | length -%}
    (
        with _newest_versions as (
            {%- for place, relation in ranked %}
            select
                {{ count }} * rowid + {{ place }} as _newest_row,
                {{ key | join(', ') }},
                {#- true before false, then the value: a NULL ranks below every value, as NULLS LAST descending;
                    last the row's number, as arg_max keeps whichever tied row its threads met first -#}
                {'_': true{% for column in newest_by %}, 'present_{{ loop.index }}': {{ column }} is not null, 'value_{{ loop.index }}': {{ column }}{% endfor %}, 'row': {{ count }} * rowid + {{ place }}} as _newest_rank
            from {{ relation }}
            {%- if where %} where {{ where }}{% endif %}
            {% if not loop.last %}union all{% endif %}
            {%- endfor %}
        ),

        _newest as (
            select arg_max(_newest_row, _newest_rank) as _newest_row
            from _newest_versions
            group by {{ key | join(', ') }}
        )

        {%- for value, relation in parts %}
        select *{% if tag %}, '{{ value }}' as {{ tag }}{% endif %}
        from {{ relation }}
        {%- if relation is not string %}
        where {{ count }} * rowid + {{ loop.index0 }} in (select _newest_row from _newest)
        {%- endif %}
        {% if not loop.last %}union all by name{% endif %}
        {%- endfor %}
    )
{%- endmacro %}
