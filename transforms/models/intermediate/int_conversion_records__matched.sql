-- Each vendor record with the order it belongs to. Records sharing an order reference are one order;
-- a record without a reference joins the referenced order of the same person and type converting
-- within `dedupe_window_minutes`; anything else stands alone (and is flagged as unmatched).
with

records as (
    {{ with_person(ref('int_conversions__unioned')) }}
),

referenced as (
    select * from records where order_ref is not null
),

orphans_matched as (
    select
        o.vendor,
        o.record_id,
        r.order_ref as matched_ref
    from records as o
    inner join referenced as r
        on r.person_id = o.person_id
        and r.conversion_type = o.conversion_type
        and abs(epoch(o.converted_at) - epoch(r.converted_at)) <= {{ var('dedupe_window_minutes') }} * 60
    where o.order_ref is null
    qualify row_number() over (
        partition by o.vendor, o.record_id
        order by abs(epoch(o.converted_at) - epoch(r.converted_at)), r.order_ref
    ) = 1
)

select
    records.*,
    coalesce(records.order_ref, m.matched_ref, records.vendor || ':' || records.record_id) as order_key,
    records.order_ref is null and m.matched_ref is null as is_unmatched
from records
left join orphans_matched as m using (vendor, record_id)
