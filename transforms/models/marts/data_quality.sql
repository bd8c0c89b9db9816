-- Problems worth watching, one row per check, day and detail: events Webmarketer trashed (by error type
-- and field), conversions Integr8 rejected (by reason), bot clicks, vendor records that matched no order
-- reference, and conversions no touch could be stitched to.
with

trashed as (
    select
        'trashed_event' as check_name,
        cast(processed_at as date) as day,
        'webmarketer' as vendor,
        coalesce(error_type, 'unknown') || ':' || coalesce(field, 'unknown') as detail,
        count(distinct trashed_event_id) as records
    from {{ ref('stg_webmarketer__trashed_event_errors') }}
    group by all
),

rejected as (
    select
        'rejected_conversion',
        cast(converted_at as date),
        'integr8',
        coalesce(rejection_reason, 'unknown'),
        count(*)
    from {{ ref('stg_integr8__conversions') }}
    where status = 'rejected'
    group by all
),

bots as (
    select 'bot_click', cast(clicked_at as date), 'integr8', coalesce(rejection_reason, 'unknown'), count(*)
    from {{ ref('stg_integr8__clicks') }}
    where is_bot
    group by all
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

select * from trashed
union all select * from rejected
union all select * from bots
union all select * from unmatched
union all select * from unstitched
