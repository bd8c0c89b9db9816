-- The path summary per currency: one row per currency and channel path (after lookback and transforms) with
-- its conversions and attributed revenue, and per path its non-converting journeys ("nulls", currency null:
-- a journey that did not convert has no currency). int_paths__summarised adds the currencies up; the share
-- intervals (marts.attribution_shares) redraw each currency's conversions.
with

journeys as (
    select
        journey_id,
        any_value(conversion_id) as conversion_id,
        {{ ordered_string_agg('channel', "' > '", 'touch_number') }} as path,
        count(*) as touches
    from {{ ref('int_journeys__transformed') }}
    group by journey_id
),

conversions as (
    select conversion_id, currency, attributed_revenue from {{ ref('int_conversions__deduplicated') }}
),

all_journeys as (
    select c.conversion_id, c.currency, coalesce(j.path, '') as path, c.attributed_revenue
    from conversions as c
    left join journeys as j using (conversion_id)
    union all
    select null, null, path, 0 from journeys where conversion_id is null
)

select
    currency,
    path,
    count(conversion_id) as conversions,
    coalesce(sum(attributed_revenue) filter (where conversion_id is not null), 0) as value,
    count(*) filter (where conversion_id is null) as nulls
from all_journeys
group by currency, path
