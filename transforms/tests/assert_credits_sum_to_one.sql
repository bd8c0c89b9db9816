-- Every model's credits for every conversion sum to 1.
select conversion_id, attribution_model, sum(credit) as total
from {{ ref('attribution') }}
group by all
having {{ differs('sum(credit)', '1') }}
