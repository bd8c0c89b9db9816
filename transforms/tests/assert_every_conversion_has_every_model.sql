-- No conversion is missing from any model.
select c.conversion_id, m.attribution_model
from {{ ref('conversions') }} as c
cross join (select distinct attribution_model from {{ ref('attribution') }}) as m
where not exists (
    select 1 from {{ ref('attribution') }} as a
    where a.conversion_id = c.conversion_id and a.attribution_model = m.attribution_model
)
