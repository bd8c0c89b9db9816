-- Conversion x touch x model: the share of the conversion each model gives the touch, and that share of
-- the conversion's attributed revenue. Every conversion with an observed touch has credits summing to 1 under
-- every model. A conversion without any observed touch is not credited to a made-up channel: it stays in
-- `conversions` (touches = 0) and is counted in `data_quality` (conversion_without_touches). Credit a model
-- infers for a channel the journey did not show (a journey seen in part) has no touch: touch_id is null.
-- A view on a DuckDB file over the heuristic rows (rebuilt by person) and the data-driven ones (rebuilt whole each
-- run: a refit moves them all), so that no run deletes every data-driven credit row by row; a table on Spark and in
-- a DuckLake (macros/dialect.sql: union_materialization). The published snapshot holds it as a table. (Its
-- pre-hook drops the ledger the mart kept while it was an incremental table itself, until 2026-12-06.)
{{ config(
    materialized=union_materialization(),
    pre_hook="drop table if exists {{ people_ledger(this) }}",
) }}

-- a view names its tables by schema only: it resolves them in its own database, whatever name a reader attaches it as
{%- set in_view = config.get('materialized') == 'view' %}
{%- set parts = [ref('int_attribution__heuristic_joined'), ref('int_attribution__data_driven_joined')] %}
{%- for part in parts %}
select * from {{ part.include(database=False) if in_view else part }}
{% if not loop.last %}union all{% endif %}
{%- endfor %}
