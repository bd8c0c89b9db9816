-- Channel paths (after lookback and transforms) with conversions, revenue and non-converting journeys. A vendor
-- shows non-converting journeys one by one only for some channels; a path with a channel never seen on one would
-- convert "100%" by construction, so its conversion rate is left null.
with

summarised as (
    select * from {{ ref('int_paths__summarised') }}
),

path_channels as (
    select path, {{ unnest_list(split_to_list('path', ' > ')) }} as channel, nulls
    from summarised
    where path <> ''
),

observed_channels as (
    select distinct channel from path_channels where nulls > 0
),

observed_paths as (
    select p.path, bool_and(o.channel is not null) as non_conversions_observed
    from path_channels as p
    left join observed_channels as o using (channel)
    group by p.path
)

select
    s.path,
    -- a bigint on every engine, as the counts (Spark's list length is an int)
    cast(case when s.path = '' then 0 else {{ list_length(split_to_list('s.path', ' > ')) }} end as bigint)
        as path_length,
    s.conversions,
    s.value as revenue,
    s.nulls as non_conversions,
    s.conversions + s.nulls as journeys,
    coalesce(o.non_conversions_observed, false) as non_conversions_observed,
    case when o.non_conversions_observed then s.conversions / nullif(s.conversions + s.nulls, 0) end
        as conversion_rate
from summarised as s
left join observed_paths as o using (path)
