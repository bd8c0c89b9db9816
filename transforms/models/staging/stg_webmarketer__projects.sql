select
    id as project_id,
    name as project_name,
    timezone as time_zone,
    {{ currency_code('currency') }} as currency
from {{ source('webmarketer', 'projects') }}
