-- The `attribution` mart's heuristic rows: each heuristic credit with its conversion and touch
-- (macros/attribution_rows.sql). Incremental: a run rebuilds the people int_attribution__heuristic rebuilt
-- (macros/people_incremental.sql).
{%- set upstream = ref('int_attribution__heuristic') %}
{{ config(
    materialized=people_materialization(),
    incremental_strategy='append',
    people_settings=[var('attribution_models')],
    pre_hook="{{ delete_people_to_rebuild(ref('int_attribution__heuristic')) }}",
    post_hook="{{ record_people_built(ref('int_attribution__heuristic')) }}",
) }}

{% set credits %}
    select conversion_id, touch_id, cast(null as {{ dbt.type_string() }}) as channel, attribution_model, credit
    from {{ upstream }}
    where {{ people_to_rebuild(upstream) }}
{% endset %}
{{ attribution_rows(credits) }}
