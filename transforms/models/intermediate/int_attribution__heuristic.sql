-- Rule-based credit per conversion and touch: first_touch, last_touch, last_non_direct, linear,
-- position_based (40/20/40; one touch 100%, two 50/50) and time_decay (weight 2^(-age/half-life)).
-- Each model's credits for a conversion sum to 1; touches a model gives nothing are left out.
-- Incremental by person, as int_journeys__assembled (macros/people_incremental.sql).
{%- set upstream = ref('int_journeys__transformed') %}
{{ config(
    materialized=people_materialization(),
    incremental_strategy='append',
    people_settings=[var('attribution_models')['heuristic'], var('time_decay_half_life_days')],
    pre_hook="{{ delete_people_to_rebuild(ref('int_journeys__transformed')) }}",
    post_hook="{{ record_people_built(ref('int_journeys__transformed')) }}",
) }}

with

touches as (
    select
        conversion_id,
        person_id,
        touch_id,
        touch_number,
        journey_touches as n,
        channel,
        {{ epoch_seconds('ends_at') }} - {{ epoch_seconds('touched_at') }} as age_s,
        max(case when channel != 'direct' then touch_number end) over (partition by conversion_id)
            as last_non_direct_number
    from {{ ref('int_journeys__transformed') }}
    where conversion_id is not null and {{ people_to_rebuild(upstream) }}
),

decay as (
    select
        *,
        pow(2.0, -age_s / ({{ var('time_decay_half_life_days') }} * 86400.0)) as decay_weight
    from touches
),

{%- set rules = {
    'first_touch': "select conversion_id, person_id, touch_id, 1.0 as credit from touches where touch_number = 1",
    'last_touch': "select conversion_id, person_id, touch_id, 1.0 as credit from touches where touch_number = n",
    'last_non_direct': "select conversion_id, person_id, touch_id, 1.0 as credit from touches
        where touch_number = coalesce(last_non_direct_number, n)",
    'linear': "select conversion_id, person_id, touch_id, 1.0 / n as credit from touches",
    'position_based': "select conversion_id, person_id, touch_id,
        case
            when n = 1 then 1.0
            when n = 2 then 0.5
            when touch_number in (1, n) then 0.4
            else 0.2 / (n - 2)
        end as credit
        from touches",
    'time_decay': "select conversion_id, person_id, touch_id,
        decay_weight / sum(decay_weight) over (partition by conversion_id) as credit
        from decay",
} -%}

credits as (
    {%- for model in var('attribution_models')['heuristic'] %}
    {%- if model not in rules %}
    {{ exceptions.raise_compiler_error("unknown heuristic attribution model " ~ model ~ "; known: " ~ (rules.keys() | list)) }}
    {%- endif %}
    {% if not loop.first %}union all{% endif %}
    select conversion_id, person_id, touch_id, '{{ model }}' as attribution_model, credit from ({{ rules[model] }})
    {%- endfor %}
)

select * from credits
