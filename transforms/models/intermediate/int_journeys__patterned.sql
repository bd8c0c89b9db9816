-- Each credited conversion's pattern: whether its journey is seen whole, and the channels on its path with
-- their touches (all, a site-wide tracker's, an ad network's), as one key. The conversion model's credit is a
-- function of the pattern alone, so it is fitted and split per pattern (int_journey_patterns__counted), not
-- per conversion, and conversions take their pattern's split. Incremental by person, as
-- int_journeys__assembled (macros/people_incremental.sql).
{%- set upstream = ref('int_journeys__channel_touches') %}
{{ config(
    materialized=people_materialization(),
    incremental_strategy='append',
    pre_hook="{{ delete_people_to_rebuild(ref('int_journeys__channel_touches')) }}",
    post_hook="{{ record_people_built(ref('int_journeys__channel_touches')) }}",
) }}

select
    conversion_id,
    person_id,
    bool_or(seen_whole) as seen_whole,
    case when bool_or(seen_whole) then 'whole' else 'part' end || ' '
    || {{ ordered_string_agg("channel || ':' || touches || ':' || tracker_touches || ':' || network_touches", "' '",
                             'channel') }}
        as pattern
from {{ ref('int_journeys__channel_touches') }}
where {{ people_to_rebuild(upstream) }}
group by conversion_id, person_id
