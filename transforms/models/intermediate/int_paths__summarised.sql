-- The path summary the data-driven models read: one row per channel path (after lookback and transforms)
-- with its conversions, attributed revenue and non-converting journeys ("nulls"), every currency together.
select
    path,
    cast(sum(conversions) as bigint) as conversions,  -- bigint on every engine: DuckDB sums to hugeint
    sum(value) as value,
    cast(sum(nulls) as bigint) as nulls
from {{ ref('int_paths__by_currency') }}
group by path
