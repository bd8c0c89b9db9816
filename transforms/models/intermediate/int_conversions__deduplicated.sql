-- One conversion per real order (see int_conversion_records__matched for how records find their order),
-- with every vendor's view of it. Refunds and fraud rejections stay visible but earn no attributed revenue.
with

keyed as (
    select * from {{ ref('int_conversion_records__matched') }}
),

orders as (
    select
        order_key as conversion_id,
        max(order_ref) as order_ref,
        min(person_id) as person_id,
        min(conversion_type) as conversion_type,
        min(converted_at) as converted_at,
        coalesce(
            max(revenue) filter (where vendor = 'clickmagick'),
            max(revenue) filter (where vendor = 'webmarketer'),
            max(revenue) filter (where vendor = 'integr8')
        ) as revenue,
        coalesce(
            max(currency) filter (where vendor = 'clickmagick'),
            max(currency) filter (where vendor = 'webmarketer'),
            max(currency) filter (where vendor = 'integr8')
        ) as currency,
        case
            when bool_or(vendor_status = 'refunded') then 'refunded'
            when bool_or(vendor_status = 'rejected') then 'rejected'
            else 'completed'
        end as status,
        max(rejection_reason) as rejection_reason,
        bool_or(vendor_status = 'processing') as awaiting_integr8_decision,
        list(distinct vendor order by vendor) as vendors,
        count(distinct vendor) as vendor_count,
        count(*) as vendor_records,
        max(revenue) filter (where vendor = 'clickmagick') as clickmagick_revenue,
        max(revenue) filter (where vendor = 'integr8') as integr8_revenue,
        max(revenue) filter (where vendor = 'webmarketer') as webmarketer_revenue,
        max(record_id) filter (where vendor = 'clickmagick') as clickmagick_conversion_id,
        max(record_id) filter (where vendor = 'integr8') as integr8_conversion_id,
        max(record_id) filter (where vendor = 'webmarketer') as webmarketer_event_id,
        bool_or(is_unmatched) as is_unmatched
    from keyed
    group by order_key
)

select
    *,
    case when status = 'completed' then revenue else 0 end as attributed_revenue
from orders
