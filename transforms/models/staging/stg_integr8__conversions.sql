select
    real_tx_id as conversion_id,
    click_tx_id,
    case goal when 'sale' then 'sale' else 'action' end as conversion_type,
    conversion_time as converted_at,
    click_time as clicked_at,
    nullif(upper(trim(external_transaction_id)), '') as order_ref,
    cast(purchase_value as double) as revenue,
    upper(currency) as currency,
    cast(payout as double) as payout,
    lower(status) as status,
    rejection_reason,
    lower(third_party_status) as third_party_status,
    integration_id,
    advertiser,
    offer,
    publisher,
    device_id,
    conversion_ip as ip,
    _dlt_load_id as load_id
from {{ source('integr8', 'conversions') }}
qualify row_number() over (partition by real_tx_id order by _dlt_load_id desc) = 1
