-- Sales, actions and engagements as one list of ClickMagick conversions.
{% set kinds = {'sales': 'sale', 'actions': 'action', 'engagements': 'engagement'} %}

with
{% for table, kind in kinds.items() %}
{{ table }} as (
    select *, '{{ kind }}' as conversion_type from {{ source('clickmagick', table) }}
),
{% endfor %}

unioned as (
    {% for table in kinds %}
    select * from {{ table }}{% if not loop.last %} union all by name{% endif %}
    {% endfor %}
),

renamed as (
    select
        cast(id as varchar) as conversion_id,
        conversion_type,
        project_id,
        "timestamp" as converted_at,
        nullif(upper(trim(ref)), '') as order_ref,
        cast(amt as double) as revenue,
        {{ currency_code('currency') }} as currency,
        currency as currency_sent,
        lower(status) as status,
        refund_time as refunded_at,
        cmc_vid as visitor_id,
        nullif(lower(trim(email)), '') as email,
        utm_source, utm_medium, utm_campaign, utm_content, utm_term,
        gclid, msclkid, fbclid, ttclid,
        _dlt_load_id as load_id
    from unioned
)

select * from renamed
qualify row_number() over (partition by conversion_id order by load_id desc) = 1
