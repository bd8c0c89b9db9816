-- What campaigns cost, from every vendor that knows: Webmarketer outlays for the campaigns they cover;
-- Integr8 click payouts and ClickMagick's Auto Cost (the ad accounts' spend) for the other campaigns;
-- Integr8 conversion payouts (commissions) always.
-- One row per source of spend, day, campaign and currency.
with

outlays as (
    select
        'webmarketer' as vendor,
        'outlay' as spend_type,
        o.spend_date as day,
        c.campaign_slug as campaign,
        o.currency,
        sum(o.amount) as spend
    from {{ ref('stg_webmarketer__outlays') }} as o
    inner join {{ ref('stg_webmarketer__campaigns') }} as c using (campaign_id)
    group by all
),

click_costs as (
    select
        'integr8' as vendor,
        'click_payout' as spend_type,
        cast(k.clicked_at as date) as day,
        k.offer as campaign,
        o.currency,
        sum(k.cost) as spend
    from {{ ref('stg_integr8__clicks') }} as k
    left join {{ ref('stg_integr8__offers') }} as o on o.offer_id = k.offer_id and o.integration_id = k.integration_id
    where k.offer not in (select campaign from outlays)
    group by all
),

auto_costs as (
    select
        'clickmagick' as vendor,
        'auto_cost' as spend_type,
        day,
        utm_campaign as campaign,
        currency,
        sum(auto_cost) as spend
    from {{ ref('stg_clickmagick__stats_days') }}
    where auto_cost > 0 and utm_campaign not in (select campaign from outlays)
    group by all
),

commissions as (
    select
        'integr8' as vendor,
        'commission' as spend_type,
        cast(converted_at as date) as day,
        offer as campaign,
        currency,
        sum(payout) as spend
    from {{ ref('stg_integr8__conversions') }}
    where status != 'rejected'
    group by all
)

select * from outlays
union all
select * from click_costs
union all
select * from auto_costs
union all
select * from commissions
