-- channel_performance loses no credited conversion or revenue of the attribution mart.
with mart as (
    select attribution_model, sum(conversions) as conversions, sum(revenue) as revenue
    from {{ ref('channel_performance') }} group by all
),
source as (
    select attribution_model, sum(credit) as conversions, sum(revenue_credit) as revenue
    from {{ ref('attribution') }} group by all
)
select *
from mart full outer join source using (attribution_model)
where abs(coalesce(mart.conversions, 0) - coalesce(source.conversions, 0)) > 1e-6
   or abs(coalesce(mart.revenue, 0) - coalesce(source.revenue, 0)) > 1e-6
