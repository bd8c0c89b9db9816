-- Conversion x touch x model: the share of the conversion each model gives the touch, and that share of
-- the conversion's attributed revenue. A conversion with no observed touch gets one `(none)` row per model,
-- so every conversion's credits sum to 1 under every model.
{% set models = var('attribution_models')['heuristic'] + var('attribution_models')['data_driven'] %}

with

credits as (
    select * from {{ ref('int_attribution__heuristic') }}
    union all
    select * from {{ ref('int_attribution__data_driven') }}
),

conversions as (
    select * from {{ ref('int_conversions__deduplicated') }}
),

touches as (
    select distinct on (conversion_id, touch_id) *
    from {{ ref('int_journeys__transformed') }}
    where conversion_id is not null
),

unattributed as (
    select c.conversion_id, cast(null as varchar) as touch_id, m.attribution_model, 1.0 as credit
    from conversions as c
    cross join (select unnest({{ models }}) as attribution_model) as m
    where not exists (select 1 from touches as t where t.conversion_id = c.conversion_id)
)

select
    k.conversion_id,
    k.attribution_model,
    k.touch_id,
    t.touch_number,
    t.touched_at,
    coalesce(t.channel, '(none)') as channel,
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
from (select * from credits union all select * from unattributed) as k
inner join conversions as c using (conversion_id)
left join touches as t on t.conversion_id = k.conversion_id and t.touch_id = k.touch_id
