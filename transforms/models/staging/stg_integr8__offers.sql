select
    integration_id,
    id as offer_id,
    name as offer_name,
    channel,
    payout_type,
    {{ currency_code('currency') }} as currency
from {{ source('integr8', 'offers') }}
