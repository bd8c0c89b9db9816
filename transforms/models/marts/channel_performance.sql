-- Day x channel x campaign x currency x model: credited conversions and revenue, and what the campaign cost
-- that day in that currency. Spend comes from int_spend__daily (every vendor's costs, per currency) and is the
-- same under every model; revenue and spend meet only in the same currency.
with

credited as (
    select
        conversion_date as day,
        channel,
        campaign,
        currency,
        attribution_model,
        sum(credit) as conversions,
        sum(credit) filter (where status = 'completed') as completed_conversions,
        sum(revenue_credit) as revenue
    from {{ ref('attribution') }}
    group by all
),

campaign_channels as (
    select campaign, max_by(channel, touches) as channel
    from (select campaign, channel, count(*) as touches from {{ ref('int_touches__classified') }}
          where campaign is not null group by all)
    group by campaign
),

spend as (
    select day, campaign, currency, spend from {{ ref('int_spend__daily') }}
),

models as (
    select distinct attribution_model from {{ ref('attribution') }}
),

spend_by_model as (
    select s.day, coalesce(cc.channel, 'other') as channel, s.campaign, s.currency, m.attribution_model, s.spend
    from spend as s
    cross join models as m
    left join campaign_channels as cc using (campaign)
)

select
    coalesce(c.day, s.day) as day,
    coalesce(c.channel, s.channel) as channel,
    coalesce(c.campaign, s.campaign) as campaign,
    coalesce(c.currency, s.currency) as currency,
    coalesce(c.attribution_model, s.attribution_model) as attribution_model,
    coalesce(c.conversions, 0) as conversions,
    coalesce(c.completed_conversions, 0) as completed_conversions,
    coalesce(c.revenue, 0) as revenue,
    coalesce(s.spend, 0) as spend,
    coalesce(c.revenue, 0) / nullif(s.spend, 0) as roas,
    s.spend / nullif(c.completed_conversions, 0) as cpa
from credited as c
full outer join spend_by_model as s
    on s.day = c.day
    and s.campaign is not distinct from c.campaign
    and s.channel = c.channel
    and s.currency is not distinct from c.currency
    and s.attribution_model = c.attribution_model
