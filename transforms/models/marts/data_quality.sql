-- Problems worth watching, one row per check, day and detail: what the vendors flag themselves (trashed
-- events, rejected conversions, bot clicks: int_quality_issues__unioned), vendor records that matched no
-- order reference, and conversions no touch could be stitched to.
with

vendor_flags as (
    select * from {{ ref('int_quality_issues__unioned') }}
),

unmatched as (
    select 'unmatched_record', cast(converted_at as date), vendor, conversion_type, count(*)
    from {{ ref('int_conversion_records__matched') }}
    where is_unmatched
    group by all
),

unstitched as (
    select 'conversion_without_touches', conversion_date, array_to_string(vendors, '+'), conversion_type, count(*)
    from {{ ref('conversions') }}
    where touches = 0
    group by all
)

select * from vendor_flags
union all select * from unmatched
union all select * from unstitched
