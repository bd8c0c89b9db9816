-- channel_performance loses no credited conversion or revenue of the attribution mart (up to rounding,
-- relative to the amounts: macro differs).
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
where {{ differs('coalesce(mart.conversions, 0)', 'coalesce(source.conversions, 0)') }}
   or {{ differs('coalesce(mart.revenue, 0)', 'coalesce(source.revenue, 0)') }}
