-- The path summary the data-driven models read: one row per channel path (after lookback and
-- transforms) with its conversions, attributed revenue and non-converting journeys ("nulls").
with

journeys as (
    select
        journey_id,
        any_value(conversion_id) as conversion_id,
        string_agg(channel, ' > ' order by touch_number) as path,
        count(*) as touches
    from {{ ref('int_journeys__transformed') }}
    group by journey_id
),

conversions as (
    select conversion_id, attributed_revenue from {{ ref('int_conversions__deduplicated') }}
),

all_journeys as (
    select c.conversion_id, coalesce(j.path, '') as path, c.attributed_revenue
    from conversions as c
    left join journeys as j using (conversion_id)
    union all
    select null, path, 0 from journeys where conversion_id is null
)

select
    path,
    count(conversion_id) as conversions,
    coalesce(sum(attributed_revenue) filter (where conversion_id is not null), 0) as value,
    count(*) filter (where conversion_id is null) as nulls
from all_journeys
group by path
