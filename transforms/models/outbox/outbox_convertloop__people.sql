-- What ConvertLoop receives about each stitched person who converted: one identify call per person, with
-- their journey's channels, their value, and one segment per top channel (the channel the default
-- data-driven model credits most for their conversions). A person ConvertLoop cannot address (no email
-- and no user id) is skipped with the reason.
{{ config(materialized=diffed_materialization(), unique_key='row_key') }}

{%- set default_model = var('attribution_models')['data_driven'][0] %}
with

conversions as (
    select * from {{ ref('conversions') }}
    where person_id is not null
),

contacts as (
    select * from {{ ref('int_people__contacts') }}
),

channel_credit as (
    select c.person_id, a.channel, sum(a.credit) as credit
    from {{ ref('attribution') }} as a
    inner join conversions as c using (conversion_id)
    where a.attribution_model = '{{ default_model }}'
    group by all
),

top_channels as (
    -- ties go to the channel name that sorts first, so a re-run picks the same one
    select person_id, channel as top_channel
    from (
        select person_id, channel, row_number() over (partition by person_id order by credit desc, channel) as rank
        from channel_credit
    )
    where rank = 1
),

revenue_by_currency as (
    select person_id, currency, round(sum(attributed_revenue), 2) as revenue
    from conversions
    group by all
),

lifetime_revenue as (
    -- never summed across currencies: one entry per currency
    select person_id, {{ ordered_json_object('currency', 'revenue') }} as lifetime_revenue
    from revenue_by_currency
    where currency is not null
    group by person_id
),

-- A conversion without a touch of its own (a reorder minutes after the first order) leaves the channels to the
-- person's other conversions: said explicitly, as DuckDB's min_by/max_by skip a NULL value and Spark's keep it.
journeys as (
    select
        person_id,
        count(*) as conversions,
        max(converted_at) as last_conversion_at,
        min_by(first_touch_channel, first_touch_at) filter (where first_touch_channel is not null)
            as first_touch_channel,
        max_by(last_touch_channel, converted_at) filter (where last_touch_channel is not null) as last_touch_channel
    from conversions
    group by person_id
)

select
    j.person_id as row_key,
    j.person_id,
    p.email,
    p.user_id,
    j.first_touch_channel,
    j.last_touch_channel,
    t.top_channel,
    '{{ default_model }}' as top_channel_model,
    coalesce(r.lifetime_revenue, '{}') as lifetime_revenue,
    j.conversions,
    j.last_conversion_at,
    case when t.top_channel is not null then 'Top channel: ' || t.top_channel end as segment,
    case when p.email is null and p.user_id is null then 'no email or user id' end as skip_reason
from journeys as j
left join contacts as p using (person_id)
left join top_channels as t using (person_id)
left join lifetime_revenue as r using (person_id)
