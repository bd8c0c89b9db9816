select
    id as campaign_id,
    project_id,
    integration_id,
    campaign_slug,
    name as campaign_name
from {{ source('webmarketer', 'campaigns') }}
