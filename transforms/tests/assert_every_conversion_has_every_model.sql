-- No conversion with an observed touch is missing from any model (those without one are reported apart).
select c.conversion_id, m.attribution_model
from {{ ref('conversions') }} as c
cross join (select distinct attribution_model from {{ ref('attribution') }}) as m
where c.touches > 0
  and not exists (
    select 1 from {{ ref('attribution') }} as a
    where a.conversion_id = c.conversion_id and a.attribution_model = m.attribution_model
)
