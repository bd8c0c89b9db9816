-- One fingerprint per person over everything the person-local incremental models read of them: their
-- touches, their conversions, and the settings those models follow (vars, the vendor_priorities seed). A
-- person whose fingerprint moved is rebuilt in them (macros/people_incremental.sql); a row's hash covers every
-- column, so any change to a touch or conversion of the person moves it.
with

touches as (
    select person_id, sum(hash(t)) as touches_hash
    from {{ ref('int_touches__classified') }} as t
    group by person_id
),

conversions as (
    select person_id, sum(hash(c)) as conversions_hash
    from {{ ref('int_conversions__deduplicated') }} as c
    group by person_id
),

settings as (
    select hash(
        '{{ var("path_lookback_days") }}|{{ var("path_lookback_steps") }}|{{ var("path_transforms") | join(",") }}|'
        || '{{ var("time_decay_half_life_days") }}|{{ var("attribution_models")["heuristic"] | join(",") }}',
        (select sum(hash(p)) from {{ ref('vendor_priorities') }} as p)
    ) as settings_hash
)

select
    person_id,
    hash(t.touches_hash, c.conversions_hash, s.settings_hash) as fingerprint
from touches as t
full outer join conversions as c using (person_id)
cross join settings as s
