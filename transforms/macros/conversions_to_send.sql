{#- The conversions a write-only vendor is told about, the one rule for every outbox: completed or refunded
    orders (a pending one may still be cancelled, a rejected one never happened), with the reference the
    vendor knows the order by and how to reach its person (email, Webmarketer user id). -#}
{% macro conversions_to_send() %}
    select
        c.*,
        coalesce(c.order_ref, c.conversion_id) as order_reference,
        p.email,
        p.user_id
    from {{ ref('conversions') }} as c
    left join {{ ref('int_people__contacts') }} as p using (person_id)
    where c.status in ('completed', 'refunded')
{% endmacro %}
