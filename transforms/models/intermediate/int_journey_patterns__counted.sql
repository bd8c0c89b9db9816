-- The data-driven models' input, aggregated: one row per journey pattern (int_journeys__patterned), currency
-- and channel on the pattern's path, with the conversions of that pattern and currency. Its size is the
-- number of distinct patterns, whatever the history's length.
with

patterns as (
    select
        p.pattern,
        c.currency,
        any_value(p.seen_whole) as seen_whole,
        count(*) as conversions,
        min(p.conversion_id) as example_id
    from {{ ref('int_journeys__patterned') }} as p
    inner join {{ ref('int_conversions__deduplicated') }} as c using (conversion_id)
    group by p.pattern, c.currency
)

select
    p.pattern,
    p.currency,
    t.channel,
    t.touches,
    t.tracker_touches,
    t.network_touches,
    p.seen_whole,
    p.conversions
from patterns as p
inner join {{ ref('int_journeys__channel_touches') }} as t on t.conversion_id = p.example_id
