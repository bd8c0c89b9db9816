-- Problems worth watching, one row per check, day and detail: what the vendors flag themselves (trashed
-- events, rejected conversions, bot clicks: int_quality_issues__unioned), vendor records that matched no
-- order reference, conversions no touch could be stitched to, currencies that are no ISO code, and completed
-- orders with negative revenue (credited as they are: a refund is its own status).
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
    select 'conversion_without_touches', conversion_date, {{ list_join('vendors', "'+'") }}, conversion_type, count(*)
    from {{ ref('conversions') }}
    where touches = 0
    group by all
),

invalid_currency as (
    select 'invalid_currency', cast(converted_at as date), vendor, left(currency_sent, 40), count(*)
    from {{ ref('int_conversions__unioned') }}
    where currency_sent is not null and {{ currency_code('currency_sent') }} is null
    group by all
),

negative_revenue as (
    select 'negative_revenue_on_completed_order', conversion_date, {{ list_join('vendors', "'+'") }}, conversion_type,
        count(*)
    from {{ ref('conversions') }}
    where status = 'completed' and revenue < 0
    group by all
)

select * from vendor_flags
union all select * from unmatched
union all select * from unstitched
union all select * from invalid_currency
union all select * from negative_revenue
