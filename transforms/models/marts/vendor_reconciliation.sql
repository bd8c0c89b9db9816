-- Each vendor's own conversion counts and revenue against the de-duplicated orders: how much of the
-- truth it sees, how much it shares with other vendors, and how much summing vendors over-counts.
with

records as (
    select r.vendor, r.order_key as conversion_id, r.revenue, r.currency, r.conversion_type
    from {{ ref('int_conversion_records__matched') }} as r
),

orders as (
    select conversion_id, vendor_count, revenue, currency, conversion_type
    from {{ ref('int_conversions__deduplicated') }}
),

per_vendor as (
    select
        r.vendor,
        r.currency,
        count(*) as reported_conversions,
        sum(r.revenue) as reported_revenue,
        count(distinct r.conversion_id) as orders_seen,
        count(distinct r.conversion_id) filter (where o.vendor_count > 1) as orders_shared,
        count(distinct r.conversion_id) filter (where o.vendor_count = 1) as orders_exclusive
    from records as r
    inner join orders as o using (conversion_id)
    group by all
),

totals as (
    select currency, count(*) as orders, sum(revenue) as order_revenue
    from orders group by currency
),

all_vendors as (
    select
        'all vendors summed' as vendor,
        currency,
        cast(sum(reported_conversions) as bigint) as reported_conversions,  -- DuckDB sums to hugeint
        sum(reported_revenue) as reported_revenue,
        max(t.orders) as orders_seen,
        null as orders_shared,
        null as orders_exclusive
    from per_vendor
    inner join totals as t using (currency)
    group by currency
)

select
    v.vendor,
    v.currency,
    v.reported_conversions,
    v.reported_revenue,
    v.orders_seen,
    v.orders_shared,
    v.orders_exclusive,
    t.orders as deduplicated_orders,
    t.order_revenue as deduplicated_revenue,
    v.orders_seen / t.orders as coverage,
    v.reported_conversions - v.orders_seen as duplicate_records,
    v.reported_revenue - t.order_revenue as revenue_over_truth
from (select * from per_vendor union all select * from all_vendors) as v
inner join totals as t using (currency)
