-- How a destination can address each stitched person: the email and the Webmarketer user id their vendor
-- records carry. Where records differ (an address changed, a typo in one vendor's form), the most recent
-- record's; of one order's records (the same time), the most trusted vendor's (the vendor_priorities seed), then
-- the smallest value, so that every engine picks the same whatever the order of the rows.
{%- set identifiers = ['email', 'user_id'] %}
with

records as (
    select m.person_id, m.email, m.user_id, m.converted_at, p.revenue_priority
    from {{ ref('int_conversion_records__matched') }} as m
    left join {{ ref('vendor_priorities') }} as p using (vendor)
    where m.person_id is not null
),

people as (
    select distinct person_id from records
),
{% for identifier in identifiers %}
{{ identifier }}s as (
    select person_id, {{ identifier }}
    from records
    where {{ identifier }} is not null
    qualify row_number() over (
        partition by person_id order by converted_at desc, revenue_priority asc nulls last, {{ identifier }}
    ) = 1
){{ "," if not loop.last }}
{% endfor %}
select p.person_id{% for identifier in identifiers %}, {{ identifier }}s.{{ identifier }}{% endfor %}
from people as p
{%- for identifier in identifiers %}
left join {{ identifier }}s using (person_id)
{%- endfor %}
