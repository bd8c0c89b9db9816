-- What each campaign cost each day, per currency: every vendor's costs (int_spend__unioned) summed, never
-- across currencies. One row per day, campaign and currency.
select
    day,
    campaign,
    currency,
    sum(spend) as spend
from {{ ref('int_spend__unioned') }}
group by day, campaign, currency
