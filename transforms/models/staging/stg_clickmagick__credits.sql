-- The clicks ClickMagick's own attribution models credit, one row per conversion, model and click.
{% set kinds = {'sales': 'sale', 'actions': 'action', 'engagements': 'engagement'} %}
{% set columns = {'conversion_id': 'bigint', 'attribution_model': 'varchar', 'click_id': 'bigint',
                  'click_timestamp': 'timestamptz', 'share': 'double', 's2': 'varchar', 'utm_source': 'varchar',
                  'utm_medium': 'varchar', 'utm_campaign': 'varchar', 'utm_content': 'varchar',
                  'utm_term': 'varchar', 'gclid': 'varchar', 'msclkid': 'varchar', 'fbclid': 'varchar',
                  'ttclid': 'varchar', '_dlt_root_id': 'varchar'} %}
{% set credits = {} %}
{% for table, kind in kinds.items() %}
    {% do credits.update({kind: source_or_empty('clickmagick', table ~ '__credits', columns)}) %}
{% endfor %}

select
    cast(conversion_id as {{ dbt.type_string() }}) as conversion_id,
    conversion_type,
    attribution_model,
    cast(click_id as {{ dbt.type_string() }}) as click_id,
    click_timestamp as clicked_at,
    cast(share as double) as share,
    utm_source, utm_medium, utm_campaign, utm_content, utm_term,
    gclid, msclkid, fbclid, ttclid,
    s2 as integr8_tx_id
-- one credit per conversion, model and click should a conversion id recur across the three kinds
from {{ newest_rows(credits, ['conversion_id', 'attribution_model', 'click_id'], tag='conversion_type',
                   columns=columns) }}
