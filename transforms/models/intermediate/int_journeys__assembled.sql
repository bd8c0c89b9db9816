-- Every touch in its journey. A converting journey holds the person's touches after their previous
-- conversion and before this one; the touches after a person's last conversion (or of a person who
-- never converted) form one open, non-converting journey. No lookback or transform yet.
-- Incremental by person: a run rebuilds the people whose touches or conversions changed (macros/people_incremental.sql).
{%- set upstream = ref('int_people__fingerprinted') %}
{{ config(
    materialized=people_materialization(),
    incremental_strategy='append',
    pre_hook="{{ delete_people_to_rebuild(ref('int_people__fingerprinted')) }}",
    post_hook="{{ record_people_built(ref('int_people__fingerprinted')) }}",
) }}

with

conversions as (
    select
        conversion_id,
        person_id,
        converted_at,
        lag(converted_at) over (partition by person_id order by converted_at, conversion_id) as previous_at
    from {{ ref('int_conversions__deduplicated') }}
    where {{ people_to_rebuild(upstream) }}
),

last_conversion as (
    select person_id, max(converted_at) as last_converted_at from conversions group by person_id
),

-- Journeys are assigned from each touch's id, person and time alone; its other columns join at the end. DuckDB's
-- window does not spill the columns it carries: over every column of 3.6M touches (scale 1350) it ran out of memory.
touches as (
    select touch_id, person_id, touched_at from {{ ref('int_touches__classified') }}
    where {{ people_to_rebuild(upstream) }}
),

converting as (
    select c.conversion_id as journey_id, c.conversion_id, c.converted_at as ends_at, t.touch_id, t.touched_at
    from conversions as c
    inner join touches as t
        on t.person_id = c.person_id
        and t.touched_at < c.converted_at
        and (c.previous_at is null or t.touched_at >= c.previous_at)
),

open_touches as (
    select t.person_id, t.touch_id, t.touched_at
    from touches as t
    left join last_conversion as l using (person_id)
    where l.last_converted_at is null or t.touched_at >= l.last_converted_at
),

-- an open journey ends at its last touch: an aggregate joined back, not a window over the person's touches; that
-- window under the one numbering every touch below held the touches with the columns both carry, and ran a full
-- build at scale 1350 out of memory at 512MB (2026-12-06; each window alone, or this aggregate, builds)
open_ends as (
    select person_id, max(touched_at) as ends_at
    from open_touches
    group by person_id
),

open_journeys as (
    select
        'open:' || o.person_id as journey_id,
        cast(null as {{ dbt.type_string() }}) as conversion_id,
        e.ends_at,
        o.touch_id,
        o.touched_at
    from open_touches as o
    inner join open_ends as e using (person_id)
),

-- a touch is in one journey at most: converting journeys end where the next begins, the open one after the last
placed as (
    select * from converting
    union all
    select * from open_journeys
),

-- the touch's number in its journey, in a way that spills on each engine (macros/dialect.sql)
numbered as (
    {{ number_within('placed', 'journey_id', 'touched_at, touch_id', 'touch_number') }}
)

select n.journey_id, n.conversion_id, n.ends_at, t.*, n.touch_number
from numbered as n
inner join {{ ref('int_touches__classified') }} as t using (touch_id)
