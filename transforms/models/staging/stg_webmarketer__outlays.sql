select
    id as outlay_id,
    project_id,
    campaign_id,
    cast(amount as double) as amount,
    {{ currency_code('currency') }} as currency,
    cast(start_date as date) as spend_date,
    start_date as starts_at,
    end_date as ends_at,
    updated_at
from {{ source('webmarketer', 'outlays') }}
-- one row per id already: dlt merges the table on it
where deleted_at is null
