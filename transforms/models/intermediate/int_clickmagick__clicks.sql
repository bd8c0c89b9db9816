-- ClickMagick's clicks, one row each: ClickMagick shows clicks only through its models' credits, so a
-- click is the credited click (distinct across models and conversions) with its converting visitor.
-- Each click's description is one of its credits', chosen by a number (an aggregate of fixed-size values, which
-- spills) and joined back: aggregates holding the ten text columns did not spill, and at scale 1350 (5.9M
-- credits) ran DuckDB out of memory at 512MB.
{{ config(materialized=diffed_materialization(), unique_key='click_id') }}

{%- set described = ['utm_source', 'utm_medium', 'utm_campaign', 'utm_content', 'utm_term', 'gclid', 'msclkid',
                     'fbclid', 'ttclid', 'integr8_tx_id'] %}
with

credited as (
    select
        k.click_id,
        k.clicked_at,
        {%- for column in described %}
        k.{{ column }},
        {%- endfor %}
        c.visitor_id,
        -- a credit is one per conversion, model and click: this names it among the click's credits
        {{ hash_of(['k.conversion_id', 'k.attribution_model']) }} as credit
    from {{ ref('stg_clickmagick__credits') }} as k
    inner join {{ ref('stg_clickmagick__conversions') }} as c using (conversion_id)
),

chosen as (
    select
        click_id,
        min(clicked_at) as clicked_at,
        min(credit) as credit
    from credited
    group by click_id
)

select
    chosen.click_id,
    chosen.clicked_at,
    {%- for column in described %}
    k.{{ column }},
    {%- endfor %}
    k.visitor_id
from chosen
inner join credited as k on k.click_id = chosen.click_id and k.credit = chosen.credit
