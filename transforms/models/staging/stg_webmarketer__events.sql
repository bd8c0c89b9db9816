select
    id as event_id,
    project_id,
    case event_type when 'order' then 'sale' when 'lead' then 'action' else event_type end as conversion_type,
    event_date as converted_at,
    nullif(upper(trim(order_ref)), '') as order_ref,
    cast(turnover as double) as revenue,
    {{ currency_code('turnover_currency') }} as currency,
    turnover_currency as currency_sent,
    nullif(lower(trim(email)), '') as email,
    coalesce(external_id, user_id) as user_id,
    paid_at,
    refund_at as refunded_at,
    created_at,
    updated_at,
    _dlt_load_id as load_id
-- one row per id already: dlt merges the table on it
from {{ source('webmarketer', 'events') }}
