-- ClickMagick's stats reports by UTC day and UTM source/medium/campaign: tracked clicks, distinct visitors,
-- and Auto Cost (the ad accounts' spend, in the project's currency).
{% set columns = {'project_id': 'bigint', 'date': 'date', 'utm_source': 'varchar', 'utm_medium': 'varchar',
                  'utm_campaign': 'varchar', 'clicks': 'bigint', 'unique_clicks': 'bigint', 'cost': 'double',
                  'row_key': 'varchar'} %}
select
    s.row_key,
    s.project_id,
    s.date as day,
    s.utm_source,
    s.utm_medium,
    s.utm_campaign,
    s.clicks,
    s.unique_clicks,
    s.cost as auto_cost,
    p.currency
from {{ source_or_empty('clickmagick', 'stats_days', columns) }} as s
left join {{ ref('stg_clickmagick__projects') }} as p using (project_id)
