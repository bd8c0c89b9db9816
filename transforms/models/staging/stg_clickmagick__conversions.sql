-- Sales, actions and engagements as one list of ClickMagick conversions.
{% set kinds = {'sales': 'sale', 'actions': 'action', 'engagements': 'engagement'} %}

{% set conversions = {} %}
{% for table, kind in kinds.items() %}
    {% do conversions.update({kind: source('clickmagick', table)}) %}
{% endfor %}

with

-- each table holds a conversion once (dlt merges on id); across the three kinds, should an id recur, the newest
-- load's version
unioned as (
    select * from {{ newest_rows(conversions, ['id'], newest_by=[load_order()], tag='conversion_type') }}
),

renamed as (
    select
        cast(id as {{ dbt.type_string() }}) as conversion_id,
        conversion_type,
        project_id,
        {{ adapter.quote('timestamp') }} as converted_at,
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
