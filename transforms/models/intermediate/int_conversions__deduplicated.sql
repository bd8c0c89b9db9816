-- One conversion per real order (see int_conversion_records__matched for how records find their order),
-- with every vendor's view of it. Revenue and currency come from the most trusted vendor that reported
-- them (the vendor_priorities seed), and so does the brand (the brands seed). Refunds and fraud rejections
-- stay visible but earn no attributed revenue.
{{ config(materialized=diffed_materialization(), unique_key='conversion_id') }}

with

keyed as (
    select * from {{ ref('int_conversion_records__matched') }}
),

priorities as (
    select * from {{ ref('vendor_priorities') }}
),

brands as (
    select * from {{ ref('brands') }}
),

vendor_views as (
    select
        k.order_key,
        k.vendor,
        p.revenue_priority,
        p.sees,
        max(k.revenue) as revenue,
        max(k.currency) as currency,
        max(k.record_id) as record_id,
        max(b.brand) as brand
    from keyed as k
    left join priorities as p using (vendor)
    left join brands as b on b.vendor = k.vendor and b.vendor_project = k.vendor_project
    group by all
),

trusted as (
    select
        order_key,
        min_by(revenue, revenue_priority) filter (where revenue is not null) as revenue,
        min_by(currency, revenue_priority) filter (where currency is not null) as currency,
        min_by(brand, revenue_priority) filter (where brand is not null) as brand,
        -- a site-wide tracker reported it, so its journey is seen whole (not only one network's links)
        bool_or(sees = 'whole_journeys') as seen_whole,
        {%- for vendor in vendor_names() %}
        max(revenue) filter (where vendor = '{{ vendor }}') as {{ vendor }}_revenue,
        max(record_id) filter (where vendor = '{{ vendor }}') as {{ vendor }}_record_id{{ "," if not loop.last }}
        {%- endfor %}
    from vendor_views
    group by order_key
),

-- The order's person: that of its records tied to it by its reference (they share one, as the reference is a
-- node of the identity graph); of an order none of whose records carries it, the trusted vendor's record's. A
-- record matched by its value alone keeps a person of its own, without the buyer's touches.
order_people as (
    select k.order_key, k.person_id
    from keyed as k
    left join priorities as p using (vendor)
    qualify row_number() over (
        partition by k.order_key
        order by
            case when k.person_id is null then 1 else 0 end,
            case when k.order_ref is null then 1 else 0 end,
            p.revenue_priority asc nulls last,
            k.person_id
    ) = 1
),

orders as (
    select
        order_key as conversion_id,
        max(order_ref) as order_ref,
        min(conversion_type) as conversion_type,
        min(converted_at) as converted_at,
        case
            when bool_or(vendor_status = 'refunded') then 'refunded'
            when bool_or(vendor_status = 'rejected') then 'rejected'
            else 'completed'
        end as status,
        max(rejection_reason) as rejection_reason,
        bool_or(vendor_status = 'processing') as awaiting_vendor_decision,
        {{ sorted_distinct_list('vendor') }} as vendors,
        count(distinct vendor) as vendor_count,
        count(*) as vendor_records,
        bool_or(is_unmatched) as is_unmatched
    from keyed
    group by order_key
)

select
    o.conversion_id,
    o.order_ref,
    op.person_id,
    o.conversion_type,
    o.converted_at,
    t.brand,
    t.revenue,
    t.currency,
    o.status,
    o.rejection_reason,
    o.awaiting_vendor_decision,
    o.vendors,
    o.vendor_count,
    o.vendor_records,
    coalesce(t.seen_whole, false) as seen_whole,
    {{- vendor_view_columns('t') }}
    o.is_unmatched,
    case when o.status = 'completed' then t.revenue else 0 end as attributed_revenue
from orders as o
inner join trusted as t on t.order_key = o.conversion_id
inner join order_people as op on op.order_key = o.conversion_id
