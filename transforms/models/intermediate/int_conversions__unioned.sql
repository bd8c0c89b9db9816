-- Every vendor's conversion records in one shape, with the identifiers that can tie them to an order.
{{ config(materialized=diffed_materialization(), unique_key=['vendor', 'record_id']) }}

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
        currency_sent,
        case when status = 'refunded' then 'refunded' else 'completed' end as vendor_status,
        cast(null as {{ dbt.type_string() }}) as rejection_reason,
        email,
        cast(null as {{ dbt.type_string() }}) as user_id,
        cast(project_id as {{ dbt.type_string() }}) as vendor_project,
        'cmv:' || visitor_id as person_node,
        cast(null as {{ dbt.type_string() }}) as click_tx_id,
        cast(null as {{ dbt.type_string() }}) as visit_ip,
        cast(null as {{ dbt.type_string() }}) as visit_user_agent
    from {{ ref('stg_clickmagick__conversions') }}
),

integr8 as (
    select
        'integr8' as vendor,
        c.conversion_id as record_id,
        c.conversion_type,
        c.converted_at,
        c.order_ref,
        coalesce(c.revenue, 0) as revenue,
        c.currency,
        c.currency_sent,
        case
            when c.third_party_status = 'refunded' then 'refunded'
            when c.status = 'rejected' then 'rejected'
            when c.status = 'processing' then 'processing'
            else 'completed'
        end as vendor_status,
        c.rejection_reason,
        cast(null as {{ dbt.type_string() }}) as email,
        cast(null as {{ dbt.type_string() }}) as user_id,
        c.integration_id as vendor_project,
        'dev:' || c.device_id as person_node,
        c.click_tx_id,
        k.ip as visit_ip,  -- the visit that brought the order (how Improvely knows a visitor)
        k.user_agent as visit_user_agent
    from {{ ref('stg_integr8__conversions') }} as c
    left join {{ ref('stg_integr8__clicks') }} as k on k.tx_id = c.click_tx_id
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
        e.currency_sent,
        case when e.refunded_at is not null then 'refunded' else 'completed' end as vendor_status,
        cast(null as {{ dbt.type_string() }}) as rejection_reason,
        e.email,
        e.user_id,
        e.project_id as vendor_project,
        'wmu:' || e.user_id as person_node,
        cast(null as {{ dbt.type_string() }}) as click_tx_id,
        cast(null as {{ dbt.type_string() }}) as visit_ip,
        cast(null as {{ dbt.type_string() }}) as visit_user_agent
    from {{ ref('stg_webmarketer__events') }} as e
    left join {{ ref('stg_webmarketer__projects') }} as p using (project_id)
)

select * from clickmagick
union all
select * from integr8
union all
select * from webmarketer
