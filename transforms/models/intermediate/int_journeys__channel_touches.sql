-- One row per conversion and channel on its path (after lookback and transforms): its touches, how many of
-- them a site-wide tracker saw (a vendor that sees every channel's clicks) and how many an ad network saw
-- (a vendor that sees clicks on its own links only), and whether a site-wide tracker reported the
-- conversion, i.e. whether its journey is seen whole (int_conversions__deduplicated; the vendor_priorities
-- seed says who sees what).
-- The input of the conversion model (attribution.conversion_model). Incremental by person, as
-- int_journeys__assembled (macros/people_incremental.sql).
{%- set upstream = ref('int_journeys__transformed') %}
{{ config(
    materialized=people_materialization(),
    incremental_strategy='append',
    pre_hook="{{ delete_people_to_rebuild(ref('int_journeys__transformed')) }}",
    post_hook="{{ record_people_built(ref('int_journeys__transformed')) }}",
) }}

with

sight as (
    select
        {{ list_agg('vendor') }} filter (where sees = 'whole_journeys') as trackers,
        {{ list_agg('vendor') }} filter (where sees = 'own_links') as networks
    from {{ ref('vendor_priorities') }}
)

select
    j.conversion_id,
    j.channel,
    j.person_id,
    count(*) as touches,
    count(*) filter (where {{ lists_overlap('j.seen_by', 's.trackers') }}) as tracker_touches,
    count(*) filter (where {{ lists_overlap('j.seen_by', 's.networks') }}) as network_touches,
    any_value(c.seen_whole) as seen_whole
from {{ ref('int_journeys__transformed') }} as j
inner join {{ ref('int_conversions__deduplicated') }} as c using (conversion_id)
cross join sight as s
where {{ people_to_rebuild(upstream, 'j.person_id') }}
group by j.conversion_id, j.channel, j.person_id
