-- Per channel: who it reached over the whole history, converting or not (the site-wide trackers' reports), and
-- how many conversions have it on their path: the aggregate view of the journeys no vendor shows one by one.
with

reach as (
    select channel, visitors, clicks from {{ ref('int_exposure__channels') }}
),

converting as (
    select channel, count(distinct conversion_id) as conversions
    from {{ ref('int_journeys__channel_touches') }}
    group by channel
)

select
    coalesce(r.channel, c.channel) as channel,
    coalesce(r.visitors, 0) as visitors,
    coalesce(r.clicks, 0) as clicks,
    coalesce(c.conversions, 0) as conversions,
    c.conversions / nullif(r.visitors, 0) as conversions_per_visitor
from reach as r
full outer join converting as c using (channel)
