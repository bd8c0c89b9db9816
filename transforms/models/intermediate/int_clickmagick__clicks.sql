-- ClickMagick's clicks, one row each: ClickMagick shows clicks only through its models' credits, so a
-- click is the credited click (distinct across models and conversions) with its converting visitor.
select
    k.click_id,
    min(k.clicked_at) as clicked_at,
    any_value(k.utm_source) as utm_source,
    any_value(k.utm_medium) as utm_medium,
    any_value(k.utm_campaign) as utm_campaign,
    any_value(k.utm_content) as utm_content,
    any_value(k.utm_term) as utm_term,
    any_value(k.gclid) as gclid,
    any_value(k.msclkid) as msclkid,
    any_value(k.fbclid) as fbclid,
    any_value(k.ttclid) as ttclid,
    any_value(k.integr8_tx_id) as integr8_tx_id,
    any_value(c.visitor_id) as visitor_id
from {{ ref('stg_clickmagick__credits') }} as k
inner join {{ ref('stg_clickmagick__conversions') }} as c using (conversion_id)
group by k.click_id
