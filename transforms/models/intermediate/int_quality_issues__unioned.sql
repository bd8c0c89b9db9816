-- Problems the vendors themselves flag, one row per check, day, vendor and detail: events Webmarketer
-- trashed (by error type and field), conversions Integr8 rejected (by reason), Integr8's bot clicks; and
-- records of any vendor that did not fit their documented types (by table and column), still not loaded;
-- and open schema drift (a documented field no longer sent, or an undocumented one), from the day first seen.
-- The refs in the loop below are made while parsing, before the vendor list is known: declared here.
-- depends_on: {{ ref('stg_clickmagick__rejected_records') }}
-- depends_on: {{ ref('stg_integr8__rejected_records') }}
-- depends_on: {{ ref('stg_webmarketer__rejected_records') }}
-- depends_on: {{ ref('stg_clickmagick__schema_drift') }}
-- depends_on: {{ ref('stg_integr8__schema_drift') }}
-- depends_on: {{ ref('stg_webmarketer__schema_drift') }}
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

not_fitting as (
    {% for vendor in vendor_names() %}
    select
        'record_not_fitting_its_type',
        cast(rejected_at as date),
        '{{ vendor }}',
        table_name || '.' || column_name,
        count(distinct record_id)
    from {{ ref('stg_' ~ vendor ~ '__rejected_records') }}
    group by all
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

drifted as (
    {% for vendor in vendor_names() %}
    select
        'schema_drift',
        cast(first_seen_at as date),
        '{{ vendor }}',
        table_name || '.' || column_name || ': ' || change,
        records
    from {{ ref('stg_' ~ vendor ~ '__schema_drift') }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
)

select * from trashed
union all select * from rejected
union all select * from bots
union all select * from not_fitting
union all select * from drifted

