-- The path summary the data-driven models read: one row per channel path (after lookback and transforms)
-- with its conversions, attributed revenue and non-converting journeys ("nulls"), every currency together.
select
    path,
    sum(conversions) as conversions,
    sum(value) as value,
    sum(nulls) as nulls
from {{ ref('int_paths__by_currency') }}
group by path
