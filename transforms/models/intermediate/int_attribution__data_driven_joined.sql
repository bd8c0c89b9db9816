-- The `attribution` mart's data-driven rows: each data-driven credit with its conversion and touch
-- (macros/attribution_rows.sql), a data-driven credit naming a channel the journey did not show without a touch.
-- Rebuilt whole each run: a refit moves every credit, and a table written anew leaves no deleted rows behind,
-- whose marks DuckDB holds outside its memory limit wherever the table is read or checkpointed.
{% set credits %}
    select conversion_id, touch_id, channel, attribution_model, credit
    from {{ ref('int_attribution__data_driven') }}
{% endset %}
{{ attribution_rows(credits) }}
