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
where deleted_at is null
qualify row_number() over (partition by id order by updated_at desc) = 1
