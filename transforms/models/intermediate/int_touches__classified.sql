-- Touches with their person and channel. The channel is the first rule of the channel_groups seed
-- (by priority) whose patterns match the touch's medium and source; `other` when none does.
with

touches as (
    select t.*, s.person_id
    from {{ ref('int_touches__unified') }} as t
    inner join {{ ref('int_identities__stitched') }} as s on s.node = t.person_node
),

rules as (
    select * from {{ ref('channel_groups') }}
),

matched as (
    select t.touch_id, r.channel
    from touches as t
    inner join rules as r
        on regexp_full_match(coalesce(lower(t.medium), ''), r.medium_pattern)
        and regexp_full_match(coalesce(lower(t.source), ''), r.source_pattern)
    qualify row_number() over (partition by t.touch_id order by r.priority) = 1
)

select touches.*, coalesce(matched.channel, 'other') as channel
from touches
left join matched using (touch_id)
