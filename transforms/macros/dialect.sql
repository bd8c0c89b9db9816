{#-
  Where DuckDB's SQL and Spark SQL differ, the project says it once here (dispatched: `duckdb__`/`default__` for
  DuckDB, `spark__` for Spark), and the models call these instead of either dialect's own syntax. dbt's own
  cross-database macros (dbt.type_string(), dbt.dateadd(), ...) are used where they exist.
-#}

{#- A column type by the project's names (varchar, timestamptz, bigint, double, date, boolean), in the engine's. -#}
{% macro sql_type(name) -%}
    {{- return(adapter.dispatch('sql_type')(name)) -}}
{%- endmacro %}

{% macro default__sql_type(name) -%}
    {{- return(name) -}}
{%- endmacro %}

{#- Spark: no varchar without a length, and its `timestamp` is the instant (timestamptz) in the session's zone. -#}
{% macro spark__sql_type(name) -%}
    {{- return({'varchar': 'string', 'timestamptz': 'timestamp'}.get(name, name)) -}}
{%- endmacro %}

{#- Whether the whole of `value` matches the regular expression `pattern`. -#}
{% macro regexp_full_match(value, pattern) -%}
    {{- return(adapter.dispatch('regexp_full_match')(value, pattern)) -}}
{%- endmacro %}

{% macro default__regexp_full_match(value, pattern) -%}
    regexp_full_match({{ value }}, {{ pattern }})
{%- endmacro %}

{% macro spark__regexp_full_match(value, pattern) -%}
    ({{ value }} rlike concat('^(?:', {{ pattern }}, ')$'))
{%- endmacro %}

{#-
  The rows of several relations as one, matched by column name; a column one relation lacks is null there.
  `parts`: (tag value, relation) pairs; with `tag`, each row carries its part's tag value in that column;
  `where` (SQL over a relation's columns) filters each part; `columns` ({name: type}) names the columns of a part
  that is SQL text, not a relation (source_or_empty's empty relation), where the engine must be told them.
-#}
{% macro union_all_by_name(parts, tag=none, where=none, columns=none) -%}
    {{- return(adapter.dispatch('union_all_by_name')(parts, tag, where, columns)) -}}
{%- endmacro %}

{% macro default__union_all_by_name(parts, tag, where, columns) -%}
    {%- for value, relation in parts %}
    select *{% if tag %}, '{{ value }}' as {{ tag }}{% endif %}
    from {{ relation }}
    {%- if where %} where {{ where }}{% endif %}
    {% if not loop.last %}union all by name{% endif %}
    {%- endfor %}
{%- endmacro %}

{#- Spark SQL has no union by name: every part selects the union's columns in one order, nulls where it lacks one. -#}
{% macro spark__union_all_by_name(parts, tag, where, columns) -%}
    {%- set found = [] -%}
    {%- for value, relation in parts -%}
        {%- set names = {} -%}
        {%- if relation is string -%}
            {%- if columns is none and execute -%}
                {{- exceptions.raise_compiler_error("union_all_by_name: a part that is SQL text needs `columns`") -}}
            {%- endif -%}
            {%- for name, type in (columns or {}).items() %}{% do names.update({name: sql_type(type)}) %}{% endfor -%}
        {%- elif execute -%}
            {%- for column in adapter.get_columns_in_relation(relation) -%}
                {%- do names.update({column.name: column.data_type}) -%}
            {%- endfor -%}
        {%- endif -%}
        {%- do found.append(names) -%}
    {%- endfor -%}
    {%- set union = {} -%}
    {%- for names in found %}{% for name, type in names.items() if name not in union %}{% do union.update({name: type}) %}{% endfor %}{% endfor -%}
    {%- for value, relation in parts %}
    {%- set present = found[loop.index0] %}
    select
        {%- for name, type in union.items() %}
        {% if name in present %}{{ adapter.quote(name) }}{% else %}cast(null as {{ type }}) as {{ adapter.quote(name) }}{% endif %}{{ "," if not loop.last or tag }}
        {%- endfor %}
        {%- if tag %}
        '{{ value }}' as {{ tag }}{% endif %}
    from {{ relation }}
    {%- if where %} where {{ where }}{% endif %}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
{%- endmacro %}

{#- Seconds since 1970-01-01 UTC of a timestamp, with its fraction (a double). -#}
{% macro epoch_seconds(value) -%}
    {{- return(adapter.dispatch('epoch_seconds')(value)) -}}
{%- endmacro %}

{% macro default__epoch_seconds(value) -%}
    epoch({{ value }})
{%- endmacro %}

{% macro spark__epoch_seconds(value) -%}
    (cast(unix_micros({{ value }}) as double) / 1000000)  {#- a double, as DuckDB's: / 1000000.0 is a decimal -#}
{%- endmacro %}

{#- A list (array) of the SQL expressions `items`. -#}
{% macro list_of(items) -%}
    {{- return(adapter.dispatch('list_of')(items)) -}}
{%- endmacro %}

{% macro default__list_of(items) -%}
    [{{ items | join(', ') }}]
{%- endmacro %}

{% macro spark__list_of(items) -%}
    array({{ items | join(', ') }})
{%- endmacro %}

{#- A hook run outside the model's transaction (before it begins, or with `after`, after its commit). Spark has
    no transactions, and its materializations run only the hooks inside one: there the hook is a plain one. -#}
{% macro hook_outside_transaction(sql, after=false) -%}
    {{- return(adapter.dispatch('hook_outside_transaction')(sql, after)) -}}
{%- endmacro %}

{% macro default__hook_outside_transaction(sql, after) -%}
    {{- return(after_commit(sql) if after else before_begin(sql)) -}}
{%- endmacro %}

{% macro spark__hook_outside_transaction(sql, after) -%}
    {{- return(sql) -}}
{%- endmacro %}

{#- An aggregate: the distinct non-null values of `value` in a group, as a sorted list. -#}
{% macro sorted_distinct_list(value) -%}
    {{- return(adapter.dispatch('sorted_distinct_list')(value)) -}}
{%- endmacro %}

{% macro default__sorted_distinct_list(value) -%}
    list(distinct {{ value }} order by {{ value }})
{%- endmacro %}

{% macro spark__sorted_distinct_list(value) -%}
    array_sort(collect_set({{ value }}))
{%- endmacro %}

{#- An aggregate: the values of `value` in a group, as a list (in no set order). -#}
{% macro list_agg(value) -%}
    {{- return(adapter.dispatch('list_agg')(value)) -}}
{%- endmacro %}

{% macro default__list_agg(value) -%}
    list({{ value }})
{%- endmacro %}

{% macro spark__list_agg(value) -%}
    collect_list({{ value }})
{%- endmacro %}

{#- Whether two lists share a value. -#}
{% macro lists_overlap(a, b) -%}
    {{- return(adapter.dispatch('lists_overlap')(a, b)) -}}
{%- endmacro %}

{% macro default__lists_overlap(a, b) -%}
    list_has_any({{ a }}, {{ b }})
{%- endmacro %}

{% macro spark__lists_overlap(a, b) -%}
    arrays_overlap({{ a }}, {{ b }})
{%- endmacro %}

{#- A 64-bit hash of the SQL expressions `values` (a row of a relation `t`: row_hash('t')). Fingerprints compare
    values of one engine only, so the two engines' hashes need not agree. -#}
{% macro hash_of(values) -%}
    {{- return(adapter.dispatch('hash_of')(values)) -}}
{%- endmacro %}

{% macro default__hash_of(values) -%}
    hash({{ values | join(', ') }})
{%- endmacro %}

{% macro spark__hash_of(values) -%}
    xxhash64({{ values | join(', ') }})
{%- endmacro %}

{% macro row_hash(alias) -%}
    {{- return(adapter.dispatch('row_hash')(alias)) -}}
{%- endmacro %}

{% macro default__row_hash(alias) -%}
    hash({{ alias }})
{%- endmacro %}

{% macro spark__row_hash(alias) -%}
    xxhash64(struct({{ alias }}.*))
{%- endmacro %}

{#- `materialization` (one that deletes rows: incremental, diffed_table) where the engine can delete rows; on
    Spark's plain Parquet tables (no table format: no delete) a table rebuilt each run. -#}
{% macro where_rows_delete(materialization) -%}
    {{- return(adapter.dispatch('where_rows_delete')(materialization)) -}}
{%- endmacro %}

{% macro default__where_rows_delete(materialization) -%}
    {{- return(materialization) -}}
{%- endmacro %}

{% macro spark__where_rows_delete(materialization) -%}
    {{- return('table') -}}
{%- endmacro %}

{#- How a person-local incremental model (macros/people_incremental.sql) is materialized. -#}
{% macro people_materialization() -%}
    {{- return(where_rows_delete('incremental')) -}}
{%- endmacro %}

{#- Every column of the relation in scope but `columns`: `select {{ star_except(['a']) }} from ...`. -#}
{% macro star_except(columns) -%}
    {{- return(adapter.dispatch('star_except')(columns)) -}}
{%- endmacro %}

{% macro default__star_except(columns) -%}
    * exclude ({{ columns | join(', ') }})
{%- endmacro %}

{% macro spark__star_except(columns) -%}
    * except ({{ columns | join(', ') }})
{%- endmacro %}

{#- The elements of a list joined by `separator` (a SQL string literal) into text. -#}
{% macro list_join(value, separator) -%}
    {{- return(adapter.dispatch('list_join')(value, separator)) -}}
{%- endmacro %}

{% macro default__list_join(value, separator) -%}
    array_to_string({{ value }}, {{ separator }})
{%- endmacro %}

{% macro spark__list_join(value, separator) -%}
    array_join({{ value }}, {{ separator }})
{%- endmacro %}

{#- An aggregate: the group's values of `value` joined by `separator` (a SQL string literal) in the order of
    `order_by`. -#}
{% macro ordered_string_agg(value, separator, order_by) -%}
    {{- return(adapter.dispatch('ordered_string_agg')(value, separator, order_by)) -}}
{%- endmacro %}

{% macro default__ordered_string_agg(value, separator, order_by) -%}
    string_agg({{ value }}, {{ separator }} order by {{ order_by }})
{%- endmacro %}

{% macro spark__ordered_string_agg(value, separator, order_by) -%}
    string_agg({{ value }}, {{ separator }}) within group (order by {{ order_by }})
{%- endmacro %}

{#- Text split at every `separator` (a plain string, not a pattern), as a list. -#}
{% macro split_to_list(value, separator) -%}
    {{- return(adapter.dispatch('split_to_list')(value, separator)) -}}
{%- endmacro %}

{% macro default__split_to_list(value, separator) -%}
    string_split({{ value }}, '{{ separator }}')
{%- endmacro %}

{#- Spark's split takes a Java pattern: the separator quoted (\Q...\E) matches as it is. -#}
{% macro spark__split_to_list(value, separator) -%}
    split({{ value }}, '\\Q{{ separator }}\\E')
{%- endmacro %}

{#- How many elements a list has. -#}
{% macro list_length(value) -%}
    {{- return(adapter.dispatch('list_length')(value)) -}}
{%- endmacro %}

{% macro default__list_length(value) -%}
    len({{ value }})
{%- endmacro %}

{% macro spark__list_length(value) -%}
    size({{ value }})
{%- endmacro %}

{#- In a select list: a row per element of the list `value` (the row's other columns repeated). -#}
{% macro unnest_list(value) -%}
    {{- return(adapter.dispatch('unnest_list')(value)) -}}
{%- endmacro %}

{% macro default__unnest_list(value) -%}
    unnest({{ value }})
{%- endmacro %}

{% macro spark__unnest_list(value) -%}
    explode({{ value }})
{%- endmacro %}

{#- The keys of a JSON object (text), as a list in the text's order. -#}
{% macro json_keys_of(value) -%}
    {{- return(adapter.dispatch('json_keys_of')(value)) -}}
{%- endmacro %}

{% macro default__json_keys_of(value) -%}
    json_keys(cast({{ value }} as json))
{%- endmacro %}

{% macro spark__json_keys_of(value) -%}
    json_object_keys({{ value }})
{%- endmacro %}

{#- A list sorted ascending (duplicates kept). -#}
{% macro sorted_list(value) -%}
    {{- return(adapter.dispatch('sorted_list')(value)) -}}
{%- endmacro %}

{% macro default__sorted_list(value) -%}
    list_sort({{ value }})
{%- endmacro %}

{% macro spark__sorted_list(value) -%}
    array_sort({{ value }})
{%- endmacro %}

{#- A number for each row of a query, unique within it, in no particular order (materialize it to keep it: Spark's
    numbers are its partitions' and rows' positions, distributed, not one sorted task). -#}
{% macro unique_row_number() -%}
    {{- return(adapter.dispatch('unique_row_number')()) -}}
{%- endmacro %}

{% macro default__unique_row_number() -%}
    row_number() over ()
{%- endmacro %}

{% macro spark__unique_row_number() -%}
    monotonically_increasing_id()
{%- endmacro %}

{#- The rows of `relation` (a CTE's name) with `name`: each row's number within its `partition_by` (one column) in
    `order_by`'s order, which must be total (row_number). Spark: a window partitioned by the column, which it sorts
    and spills per partition. DuckDB: each row's position in one order of partition and `order_by`, less its
    partition's first position: a window partitioned by a column of millions of values keeps a buffer for each of
    up to 1024 hash groups, and over the 3.6M touches of scale 1350 ran out of memory at 512 MB; one order, an
    aggregate and a join spill. -#}
{% macro number_within(relation, partition_by, order_by, name) -%}
    {{- return(adapter.dispatch('number_within')(relation, partition_by, order_by, name)) -}}
{%- endmacro %}

{% macro default__number_within(relation, partition_by, order_by, name) -%}
    with positioned as (
        select *, row_number() over (order by {{ partition_by }}, {{ order_by }}) as position_
        from {{ relation }}
    ),

    starts as (
        select {{ partition_by }} as partition_, min(position_) as first_position_
        from positioned
        group by {{ partition_by }}
    )

    select p.* exclude (position_), p.position_ - s.first_position_ + 1 as {{ name }}
    from positioned as p
    inner join starts as s on s.partition_ = p.{{ partition_by }}
{%- endmacro %}

{% macro spark__number_within(relation, partition_by, order_by, name) -%}
    {#- a bigint, as DuckDB's: Spark's row_number is an int -#}
    select *, cast(row_number() over (partition by {{ partition_by }} order by {{ order_by }}) as bigint) as {{ name }}
    from {{ relation }}
{%- endmacro %}

{#- How many buckets a distinct over `rows` values is split into, each bucket's distinct on its own
    (bucket_of): DuckDB's hash aggregate asks for one block for a partition's whole hash table, and over 6M
    identifier strings at 512 MB that block (128 MiB) was refused (macros/connected_components.sql). A bucket holds
    up to one value per 256 bytes of DuckDB's memory limit (2M at 512 MB: its block under 16 MiB). The touches' full
    outer join is bucketed the same way (models/intermediate/int_touches__unified.sql: one join over 4.5M clicks ran
    out of memory at 512 MB). `rows`: a number, or a query that counts them (count_of), run only where buckets
    are used. Spark: one, its query never run (its aggregates spill by themselves, and each bucket would be a stage
    of its own). -#}
{% macro distinct_buckets(rows) -%}
    {{- return(adapter.dispatch('distinct_buckets')(rows)) -}}
{%- endmacro %}

{% macro default__distinct_buckets(rows) -%}
    {#- while dbt parses, and in a unit test (its refs are the fixtures' CTEs, not relations a query can count) -#}
    {%- if not execute or (rows is string and model.resource_type == 'unit_test') -%}{{ return(1) }}{%- endif -%}
    {%- if rows is string -%}
        {%- set rows = run_query(rows).columns[0].values()[0] | int -%}
    {%- endif -%}
    {%- set found = run_query("
        select greatest(1, ceil(" ~ rows ~ "::double * 256 / (split_part(v, ' ', 1)::double * case split_part(v, ' ', 2)
            when 'KiB' then 1024 when 'MiB' then 1048576 when 'GiB' then 1073741824 when 'TiB' then 1099511627776
            else 1 end)))::bigint
        from (select current_setting('memory_limit') as v)") -%}
    {{- return(found.columns[0].values()[0] | int) -}}
{%- endmacro %}

{% macro spark__distinct_buckets(rows) -%}
    {{- return(1) -}}
{%- endmacro %}

{#- A query counting the rows `relations` hold together, for distinct_buckets. -#}
{% macro count_of(relations) -%}
    {%- set counts = [] -%}
    {%- for relation in relations -%}
        {%- do counts.append("select count(*) as n from " ~ relation) -%}
    {%- endfor -%}
    {{- return("select sum(n) from (" ~ counts | join(" union all ") ~ ") as c") -}}
{%- endmacro %}

{#- Which of `buckets` buckets the value of `value` falls in: 0 to buckets - 1 (a null in one of them: DuckDB's
    hash of null is a number, as Spark's). -#}
{% macro bucket_of(value, buckets) -%}
    {{- return(adapter.dispatch('bucket_of')(value, buckets)) -}}
{%- endmacro %}

{% macro default__bucket_of(value, buckets) -%}
    hash({{ value }}) % {{ buckets }}
{%- endmacro %}

{% macro spark__bucket_of(value, buckets) -%}
    pmod(xxhash64({{ value }}), {{ buckets }})
{%- endmacro %}

{#- How a mart that is the union of tables is materialized: a view on a DuckDB file (no rows copied); a table on
    Spark (every model rebuilt whole there) and in a DuckLake, whose views take no column comments (persist_docs). -#}
{% macro union_materialization() -%}
    {{- return('view' if target.type == 'duckdb' and not adapter.is_ducklake(this) else 'table') -}}
{%- endmacro %}
