-- Every observed touch once. ClickMagick's credited clicks (distinct across models) and Integr8's
-- clicks (bots excluded) are the same touch when ClickMagick's s2 carries the Integr8 transaction id,
-- or failing that when both saw the same ad click id. UTMs come from the site tracker (ClickMagick)
-- when it saw the touch; otherwise from Integr8's publisher and offer.
{{ config(materialized=diffed_materialization(), unique_key='touch_id') }}

with

clickmagick_clicks as (
    select * from {{ ref('int_clickmagick__clicks') }}
),

integr8_clicks as (
    select * from {{ ref('stg_integr8__clicks') }} where not is_bot
),

{%- set ad_click_ids = ['gclid', 'msclkid', 'fbclid', 'ttclid'] %}

-- each click's ad click ids, a row each (an unpivot that leaves out the ids a click lacks)
integr8_ad_ids as (
    {%- for id_type in ad_click_ids %}
    select tx_id, '{{ id_type }}' as id_type, {{ id_type }} as ad_click_id from integr8_clicks
    where {{ id_type }} is not null
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

clickmagick_ad_ids as (
    {%- for id_type in ad_click_ids %}
    select click_id, '{{ id_type }}' as id_type, {{ id_type }} as ad_click_id from clickmagick_clicks
    where {{ id_type }} is not null
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

-- An equi-join on the id value, not a correlated `in (gclid, ...)`: DuckDB ran that as a nested loop
-- (hours at a million clicks).
ad_click_id_matches as (
    select c.click_id, min(a.tx_id) as tx_id
    from clickmagick_ad_ids as c
    inner join integr8_ad_ids as a on a.ad_click_id = c.ad_click_id
    group by c.click_id
),

clickmagick_resolved as (
    select
        c.*,
        coalesce(c.integr8_tx_id, m.tx_id) as tx_id
    from clickmagick_clicks as c
    left join ad_click_id_matches as m on m.click_id = c.click_id
),

{#- the full outer join in buckets of the transaction id, a union of each bucket's join: one join over every
    click (4.5M rows at scale 1350, 3.9M touches) ran the daily build out of memory at 512 MB, where two buckets
    built the same rows (one bucket per 2M rows at 512 MB: macros/dialect.sql distinct_buckets) #}
{%- set buckets = distinct_buckets(count_of([ref('int_clickmagick__clicks'), ref('stg_integr8__clicks')])) %}

joined as (
    {%- for bucket in range(buckets) %}
    {%- set in_bucket = " where " ~ bucket_of('tx_id', buckets) ~ " = " ~ bucket if buckets > 1 else "" %}
    select
        coalesce('i8:' || coalesce(c.tx_id, i.tx_id), 'cm:' || c.click_id) as touch_id,
        coalesce(c.clicked_at, i.clicked_at) as touched_at,
        case when c.click_id is not null then c.utm_source else coalesce(p.utm_source, i.publisher) end as source,
        case when c.click_id is not null then c.utm_medium else coalesce(p.utm_medium, 'affiliate') end as medium,
        case when c.click_id is not null then c.utm_campaign else i.offer end as campaign,
        c.utm_content as content,
        c.utm_term as term,
        i.publisher,
        i.offer,
        i.offer_id,
        coalesce(c.gclid, i.gclid) as gclid,
        coalesce(c.msclkid, i.msclkid) as msclkid,
        coalesce(c.fbclid, i.fbclid) as fbclid,
        coalesce(c.ttclid, i.ttclid) as ttclid,
        i.cost,
        c.click_id as clickmagick_click_id,
        i.tx_id as integr8_tx_id,
        case
            when c.click_id is not null and i.tx_id is not null then {{ list_of(["'clickmagick'", "'integr8'"]) }}
            when c.click_id is not null then {{ list_of(["'clickmagick'"]) }}
            else {{ list_of(["'integr8'"]) }}
        end as seen_by,
        case when i.device_id is not null then 'dev:' || i.device_id else 'cmv:' || c.visitor_id end as person_node
    from (select * from clickmagick_resolved{{ in_bucket }}) as c
    full outer join (select * from integr8_clicks{{ in_bucket }}) as i on i.tx_id = c.tx_id
    left join {{ ref('integr8_publisher_sources') }} as p on p.publisher = i.publisher
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
)

select * from joined
