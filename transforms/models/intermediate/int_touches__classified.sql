-- Touches with their person and channel. The channel is the first rule of the channel_groups seed
-- (by priority) whose patterns match the touch's medium and source; `other` when none does.
{{ config(materialized=diffed_materialization(), unique_key='touch_id') }}

with

touches as (
    {{ with_person(ref('int_touches__unified')) }}
)

{{ with_channel('touches', pairs_from=ref('int_touches__unified')) }}
