-- What ConvertLoop receives as event logs: one per completed or refunded order, named after its type, with
-- the order, its value and each channel's credit under the default data-driven model. ConvertLoop keeps
-- events as an append-only log, so an event is sent once; later changes reach the person's attributes.
{{ config(materialized=diffed_materialization(), unique_key='row_key') }}

{%- set default_model = var('attribution_models')['data_driven'][0] %}
with

conversions as (
    {{ conversions_to_send() }}
),

credits as (
    select conversion_id, {{ ordered_json_object('channel', 'round(credit, 6)') }} as channel_credits
    from (
        select conversion_id, channel, sum(credit) as credit
        from {{ ref('attribution') }}
        where attribution_model = '{{ default_model }}'
        group by all
    )
    group by conversion_id
)

select
    c.conversion_id as row_key,
    c.conversion_id,
    c.conversion_type as name,
    c.converted_at as occurred_at,
    c.email,
    c.user_id,
    c.order_reference,
    c.revenue,
    c.currency,
    c.status,
    coalesce(k.channel_credits, '{}') as channel_credits,
    '{{ default_model }}' as credit_model,
    case when c.email is null and c.user_id is null then 'no email or user id' end as skip_reason
from conversions as c
left join credits as k using (conversion_id)
