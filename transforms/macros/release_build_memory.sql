{#-
  Post-hook of every model (dbt_project.yml): what a model left on dbt's DuckDB connection, which lives for the
  whole build, goes when the model is built, not when dbt closes the file.

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
-#}
{% macro release_build_memory() -%}
    {%- set materialized = config.get('materialized') -%}
    {%- if execute and target.type == 'duckdb' and materialized in ('incremental', 'diffed_table') -%}
        {#- a diffed table drops its own scratch (macros/diffed_table.sql) -#}
        {%- if materialized == 'incremental' -%}
            {%- set scratch = run_query("select table_name from duckdb_tables() where temporary and starts_with(table_name, "
                                        ~ dbt.string_literal(this.identifier ~ '__dbt_tmp') ~ ")") -%}
            {%- for row in scratch.rows %}
    drop table if exists temp.main.{{ adapter.quote(row[0]) }};
            {%- endfor %}
        {%- endif -%}
        {%- if target.threads == 1 and not should_full_refresh() and not adapter.is_ducklake(this) %}
    checkpoint {{ adapter.quote(this.database) }};
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
