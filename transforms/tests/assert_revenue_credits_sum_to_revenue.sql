-- Every model's revenue credits for a conversion sum to that conversion's attributed revenue.
select a.conversion_id, a.attribution_model, sum(a.revenue_credit) as credited, any_value(c.attributed_revenue) as revenue
from {{ ref('attribution') }} as a
inner join {{ ref('conversions') }} as c using (conversion_id)
group by all
having {{ differs('sum(a.revenue_credit)', 'any_value(c.attributed_revenue)') }}
