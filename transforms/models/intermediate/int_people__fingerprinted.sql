-- One fingerprint per person over everything the person-local incremental models read of them: their
-- touches, their conversions, and the vendor_priorities seed those models read. A
-- person whose fingerprint moved is rebuilt in them (macros/people_incremental.sql); a row's hash covers every
-- column, so any change to a touch or conversion of the person moves it.
with

touches as (
    select person_id, sum({{ row_hash('t') }}) as touches_hash
    from {{ ref('int_touches__classified') }} as t
    group by person_id
),

conversions as (
    select person_id, sum({{ row_hash('c') }}) as conversions_hash
    from {{ ref('int_conversions__deduplicated') }} as c
    group by person_id
),

settings as (
    -- the seed the models read besides the person's rows (their vars are in each model's people_settings)
    select sum({{ row_hash('p') }}) as settings_hash from {{ ref('vendor_priorities') }} as p
)

select
    person_id,
    {{ hash_of(['t.touches_hash', 'c.conversions_hash', 's.settings_hash']) }} as fingerprint
from touches as t
full outer join conversions as c using (person_id)
cross join settings as s
