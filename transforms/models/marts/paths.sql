-- Channel paths (after lookback and transforms) with conversions, revenue and non-converting journeys.
select
    path,
    case when path = '' then 0 else len(string_split(path, ' > ')) end as path_length,
    conversions,
    value as revenue,
    nulls as non_conversions,
    conversions + nulls as journeys,
    conversions / nullif(conversions + nulls, 0) as conversion_rate
from {{ ref('int_paths__summarised') }}
