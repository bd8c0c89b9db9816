{#-
  Post-hook of every model (dbt_project.yml): what a model left on dbt's DuckDB connection goes once it is built,
  not when dbt closes the file.

  - The temporary table dbt-duckdb's incremental materialization builds the new rows in (`<model>__dbt_tmp...`):
    it never drops it, so every person-local model's stayed in DuckDB's memory (or its temp directory) until the
    build ended; the `attribution` mart's, every data-driven credit, held 0.45 GiB of the 512MB limit at scale
    1350 through the rest of a daily build.
  - The marks of the rows a model deleted (an incremental run of a person-local model, a diffed table): DuckDB
    keeps them (~32 KB per 2,048-row vector a delete touched) outside `memory_limit` until a checkpoint, and
    dbt's DuckDB checkpoints only on close (profiles.yml), so they added up over a daily build. A CHECKPOINT
    writes them to the file, while dbt builds one model at a time only: it fails while another model's
    transaction runs, and dbt builds side by side only while the data are small (Warehouse.dbt_threads). Not in a
    DuckLake, whose CHECKPOINT is its maintenance (merging files, expiring snapshots).
  - Where dbt opens the file anew for each node (profiles.yml keep_open), every node that wrote anything ends in
    a checkpoint anyway (DuckDB's, on close), so each one checkpoints here.

  A checkpoint reads the version info of every table in the file (DuckDB 1.4: ~32 KB per 2,048-row vector that
  holds a deleted row, outside `memory_limit`), and the incremental models' deletes touch most of their vectors:
  at scale 1350 ~0.45 GiB, held until the file closes, on top of the buffer pool the model just filled. The pool
  holds only blocks already in the file or in the temp directory by then, so it is emptied first (a low limit
  evicts them) and the limit set back after.
-#}
{% macro release_build_memory() -%}
    {%- set materialized = config.get('materialized') -%}
    {%- if execute and target.type == 'duckdb' -%}
        {#- a diffed table drops its own scratch (macros/diffed_table.sql) -#}
        {%- if materialized == 'incremental' -%}
            {%- set scratch = run_query("select table_name from duckdb_tables() where temporary and starts_with(table_name, "
                                        ~ dbt.string_literal(this.identifier ~ '__dbt_tmp') ~ ")") -%}
            {%- for row in scratch.rows %}
    drop table if exists temp.main.{{ adapter.quote(row[0]) }};
            {%- endfor %}
        {%- endif -%}
        {%- set deleted_rows = materialized in ('incremental', 'diffed_table') and not should_full_refresh() -%}
        {%- set closes_after = env_var('DBT_DUCKDB_KEEP_OPEN', 'True') | lower == 'false' -%}  {#- profiles.yml keep_open -#}
        {%- if target.threads == 1 and not adapter.is_ducklake(this) and (deleted_rows or closes_after) %}
    {{ checkpoint_with_empty_buffer_pool(this.database) }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- A CHECKPOINT of `database` with DuckDB's buffer pool emptied first, the configured limit set back after. -#}
{% macro checkpoint_with_empty_buffer_pool(database) -%}
    {%- set limit = target.get('settings', {}).get('memory_limit') -%}
    {%- if limit %}
    set memory_limit = '64MB';
    {%- endif %}
    checkpoint {{ adapter.quote(database) }};
    {%- if limit %}
    set memory_limit = {{ dbt.string_literal(limit) }};
    {%- endif %}
{%- endmacro %}
