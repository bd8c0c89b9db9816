select
    id as project_id,
    name as project_name,
    time_zone,
    {{ currency_code('currency') }} as currency
from {{ source('clickmagick', 'project_settings') }}
