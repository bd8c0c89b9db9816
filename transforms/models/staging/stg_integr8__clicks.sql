select
    real_tx_id as tx_id,
    click_time as clicked_at,
    integration_id,
    advertiser,
    offer,
    offer_id,
    publisher,
    publisher_id,
    sub_id,
    device_id,
    click_ip as ip,
    user_agent,
    country,
    coalesce(is_bot, false) as is_bot,
    lower(status) as status,
    rejection_reason,
    cast(payout as double) as cost,
    gclid, msclkid, fbclid, ttclid,
    _dlt_load_id as load_id
from {{ source('integr8', 'clicks') }}
qualify row_number() over (partition by real_tx_id order by _dlt_load_id desc) = 1
