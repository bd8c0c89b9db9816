-- Touches with their person and channel. The channel is the first rule of the channel_groups seed
-- (by priority) whose patterns match the touch's medium and source; `other` when none does.
with

touches as (
    select t.*, s.person_id
    from {{ ref('int_touches__unified') }} as t
    inner join {{ ref('int_identities__stitched') }} as s on s.node = t.person_node
),

channels as (
    {{ channel_of('touches', 'touch_id') }}
)

select touches.*, channels.channel
from touches
inner join channels using (touch_id)
