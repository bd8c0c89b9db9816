-- What Improvely receives: every completed or refunded order once as a sale, and a refunded one once more
-- as a negative-revenue `refund` goal with reference `<reference>-refund` (Improvely cannot change a
-- conversion it has). Rows with a skip_reason are not sent.
{{ config(materialized=diffed_materialization(), unique_key='row_key') }}

with

conversions as (
    {{ conversions_to_send() }}
),

-- The visit that brought the order (a tracked click's IP and user agent): how Improvely knows a visitor. One
-- record's pair, never one record's IP with another's user agent: the earliest record's, of records at the same
-- time (one order seen by two vendors) the most trusted vendor's (vendor_priorities), the same on every engine.
visits as (
    select m.order_key as conversion_id, m.visit_ip as ip, m.visit_user_agent as user_agent
    from {{ ref('int_conversion_records__matched') }} as m
    left join {{ ref('vendor_priorities') }} as p using (vendor)
    where m.visit_ip is not null and m.visit_user_agent is not null
    qualify row_number() over (
        partition by m.order_key
        order by m.converted_at, p.revenue_priority asc nulls last, m.visit_ip, m.visit_user_agent
    ) = 1
),

sales as (
    select
        conversion_id || ':sale' as row_key,
        conversion_id,
        'sale' as kind,
        brand,
        conversion_type as goal,
        revenue,
        currency,
        order_reference as reference,
        converted_at as occurred_at,
        email
    from conversions
),

refunds as (
    select
        conversion_id || ':refund' as row_key,
        conversion_id,
        'refund' as kind,
        brand,
        'refund' as goal,
        -revenue as revenue,
        currency,
        order_reference || '-refund' as reference,
        converted_at as occurred_at,
        email
    from conversions
    where status = 'refunded'
),

rows_to_send as (
    select * from sales
    union all
    select * from refunds
)

select
    r.row_key,
    r.conversion_id,
    r.kind,
    r.brand,
    r.goal,
    r.revenue,
    r.currency,
    r.reference,
    r.occurred_at,
    cast(floor({{ epoch_seconds('r.occurred_at') }}) as bigint) as occurred_at_unix,
    r.email as label,
    v.ip,
    v.user_agent,
    case
        when r.brand is null then 'no brand: the vendor project is not in the brands seed'
        when r.email is null and (v.ip is null or v.user_agent is null)
            then 'no visitor identifier: neither an email nor the IP and user agent of a click'
    end as skip_reason
from rows_to_send as r
left join visits as v using (conversion_id)
