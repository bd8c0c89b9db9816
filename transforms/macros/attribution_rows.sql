{#- The `attribution` mart's rows for `credits` (a query of conversion_id, touch_id, channel, attribution_model,
    credit): each credit with its conversion and its touch. The mart is the union of two such tables
    (int_attribution__heuristic_joined, rebuilt by person; int_attribution__data_driven_joined, rebuilt whole), so
    that the data-driven credits, which a refit moves every run, are never deleted row by row. -#}
{% macro attribution_rows(credits) %}
with

credits as (
    {{ credits }}
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
{% endmacro %}
