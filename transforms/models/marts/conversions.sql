-- One row per real order across vendors: what was bought, by whom, how it ended, who reported it.
{{ config(materialized=diffed_materialization(), unique_key='conversion_id') }}

with

conversions as (
    select * from {{ ref('int_conversions__deduplicated') }}
),

journeys as (
    select
        conversion_id,
        count(*) as touches,
        min(touched_at) as first_touch_at,
        min_by(channel, touch_number) as first_touch_channel,
        max_by(channel, touch_number) as last_touch_channel
    from {{ ref('int_journeys__assembled') }}
    where conversion_id is not null
    group by conversion_id
)

select
    c.conversion_id,
    c.order_ref,
    c.person_id,
    c.conversion_type,
    c.converted_at,
    cast(c.converted_at as date) as conversion_date,
    c.brand,
    c.revenue,
    c.currency,
    c.status,
    c.rejection_reason,
    c.attributed_revenue,
    c.awaiting_vendor_decision,
    c.vendors,
    c.vendor_count,
    c.vendor_records,
    {{- vendor_view_columns('c') }}
    c.is_unmatched,
    coalesce(j.touches, 0) as touches,
    j.first_touch_at,
    j.first_touch_channel,
    j.last_touch_channel,
    {{ epoch_seconds('c.converted_at') }} - {{ epoch_seconds('j.first_touch_at') }} as seconds_to_convert
from conversions as c
left join journeys as j using (conversion_id)
