select
    id as project_id,
    name as project_name,
    time_zone,
    upper(currency) as currency
from {{ source('clickmagick', 'project_settings') }}
