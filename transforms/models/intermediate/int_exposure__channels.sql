-- Who the channels reached, converting or not: distinct visitors and clicks per channel over the whole
-- history, from the reports of the site-wide trackers (vendor_priorities: sees whole_journeys). A channel is a
-- utm_medium classified by the channel_groups seed (its rules read the medium; a visit without one is direct).
-- all_visitors and all_clicks are the totals over every channel (a visitor of two channels counts once there).
with

reports as (
    select e.*
    from {{ ref('int_exposure__unioned') }} as e
    inner join {{ ref('vendor_priorities') }} as v on v.vendor = e.vendor and v.sees = 'whole_journeys'
),

mediums as (
    select value as medium, '' as source, visitors, clicks
    from reports
    where dimension = 'utm_medium'
),

channels as (
    {{ with_channel('mediums') }}
),

totals as (
    select sum(visitors) as all_visitors, sum(clicks) as all_clicks from reports where dimension = 'all'
)

select
    c.channel,
    cast(sum(c.visitors) as bigint) as visitors,
    cast(sum(c.clicks) as bigint) as clicks,
    cast(any_value(t.all_visitors) as bigint) as all_visitors,
    cast(any_value(t.all_clicks) as bigint) as all_clicks
from channels as c
cross join totals as t
group by c.channel
