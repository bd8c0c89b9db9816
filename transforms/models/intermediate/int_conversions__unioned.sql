-- Every vendor's conversion records in one shape, with the identifiers that can tie them to an order.
with

clickmagick as (
    select
        'clickmagick' as vendor,
        conversion_id as record_id,
        conversion_type,
        converted_at,
        order_ref,
        coalesce(revenue, 0) as revenue,
        currency,
        case when status = 'refunded' then 'refunded' else 'completed' end as vendor_status,
        cast(null as varchar) as rejection_reason,
        email,
        'cmv:' || visitor_id as person_node,
        cast(null as varchar) as click_tx_id
    from {{ ref('stg_clickmagick__conversions') }}
),

integr8 as (
    select
        'integr8' as vendor,
        conversion_id as record_id,
        conversion_type,
        converted_at,
        order_ref,
        coalesce(revenue, 0) as revenue,
        currency,
        case
            when third_party_status = 'refunded' then 'refunded'
            when status = 'rejected' then 'rejected'
            when status = 'processing' then 'processing'
            else 'completed'
        end as vendor_status,
        rejection_reason,
        cast(null as varchar) as email,
        'dev:' || device_id as person_node,
        click_tx_id
    from {{ ref('stg_integr8__conversions') }}
),

webmarketer as (
    select
        'webmarketer' as vendor,
        e.event_id as record_id,
        e.conversion_type,
        e.converted_at,
        e.order_ref,
        coalesce(e.revenue, 0) as revenue,
        coalesce(e.currency, p.currency) as currency,  -- leads carry no turnover: the project's currency
        case when e.refunded_at is not null then 'refunded' else 'completed' end as vendor_status,
        cast(null as varchar) as rejection_reason,
        e.email,
        'wmu:' || e.user_id as person_node,
        cast(null as varchar) as click_tx_id
    from {{ ref('stg_webmarketer__events') }} as e
    left join {{ ref('stg_webmarketer__projects') }} as p using (project_id)
)

select * from clickmagick
union all
select * from integr8
union all
select * from webmarketer
