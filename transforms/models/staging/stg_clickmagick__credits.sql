-- The clicks ClickMagick's own attribution models credit, one row per conversion, model and click.
{% set kinds = {'sales': 'sale', 'actions': 'action', 'engagements': 'engagement'} %}
{% set columns = {'conversion_id': 'bigint', 'attribution_model': 'varchar', 'click_id': 'bigint',
                  'click_timestamp': 'timestamptz', 'share': 'double', 's2': 'varchar', 'utm_source': 'varchar',
                  'utm_medium': 'varchar', 'utm_campaign': 'varchar', 'utm_content': 'varchar',
                  'utm_term': 'varchar', 'gclid': 'varchar', 'msclkid': 'varchar', 'fbclid': 'varchar',
                  'ttclid': 'varchar', '_dlt_root_id': 'varchar'} %}

with
{% for table, kind in kinds.items() %}
{{ table }} as (
    select *, '{{ kind }}' as conversion_type
    from {{ source_or_empty('clickmagick', table ~ '__credits', columns) }} as credits
),
{% endfor %}

unioned as (
    {% for table in kinds %}
    select * from {{ table }}{% if not loop.last %} union all by name{% endif %}
    {% endfor %}
)

select
    cast(conversion_id as varchar) as conversion_id,
    conversion_type,
    attribution_model,
    cast(click_id as varchar) as click_id,
    click_timestamp as clicked_at,
    cast(share as double) as share,
    utm_source, utm_medium, utm_campaign, utm_content, utm_term,
    gclid, msclkid, fbclid, ttclid,
    s2 as integr8_tx_id
from unioned
qualify row_number() over (partition by conversion_id, attribution_model, click_id order by _dlt_root_id) = 1
