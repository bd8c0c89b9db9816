-- Conversion x touch x model: the share of the conversion each model gives the touch, and that share of
-- the conversion's attributed revenue. Every conversion with an observed touch has credits summing to 1 under
-- every model. A conversion without any observed touch is not credited to a made-up channel: it stays in
-- `conversions` (touches = 0) and is counted in `data_quality` (conversion_without_touches). Credit a model
-- infers for a channel the journey did not show (a journey seen in part) has no touch: touch_id is null.
-- Incremental: a run rebuilds the heuristic credit of the people int_attribution__heuristic rebuilt, and every
-- data-driven credit (a refit moves them all; macros/people_incremental.sql).
{%- set upstream = ref('int_attribution__heuristic') %}
{{ config(
    materialized=people_materialization(),
    incremental_strategy='append',
    people_settings=[var('attribution_models')],
    pre_hook="{{ delete_people_to_rebuild(ref('int_attribution__heuristic'), also=is_data_driven('attribution_model')) }}",
    post_hook="{{ record_people_built(ref('int_attribution__heuristic')) }}",
) }}

with

credits as (
    -- a heuristic credits a touch of the journey (its channel is the touch's); a data-driven credit can name a
    -- channel the journey did not show
    select conversion_id, touch_id, cast(null as {{ dbt.type_string() }}) as channel, attribution_model, credit
    from {{ ref('int_attribution__heuristic') }}
    where {{ people_to_rebuild(upstream) }}
    union all
    select conversion_id, touch_id, channel, attribution_model, credit
    from {{ ref('int_attribution__data_driven') }}
),

conversions as (
    select * from {{ ref('int_conversions__deduplicated') }}
),

-- one row per conversion and touch (the first, should a journey hold a touch twice), chosen by an aggregate joined
-- back: a window over every converting touch holds its rows' columns in memory, and ran the daily build at scale 1350
-- out of memory at 512MB; aggregates and joins spill
first_copies as (
    select conversion_id, touch_id, min(touch_number) as touch_number
    from {{ ref('int_journeys__transformed') }}
    where conversion_id is not null
    group by conversion_id, touch_id
),

touches as (
    select t.*
    from {{ ref('int_journeys__transformed') }} as t
    inner join first_copies using (conversion_id, touch_id, touch_number)
)

select
    k.conversion_id,
    c.person_id,
    k.attribution_model,
    k.touch_id,
    t.touch_number,
    t.touched_at,
    coalesce(t.channel, k.channel) as channel,
    k.touch_id is null as inferred,
    t.source,
    t.medium,
    t.campaign,
    t.publisher,
    k.credit,
    k.credit * c.attributed_revenue as revenue_credit,
    c.conversion_type,
    c.converted_at,
    cast(c.converted_at as date) as conversion_date,
    c.currency,
    c.status,
    c.revenue,
    c.attributed_revenue
from credits as k
inner join conversions as c using (conversion_id)
left join touches as t on t.conversion_id = k.conversion_id and t.touch_id = k.touch_id
