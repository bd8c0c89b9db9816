-- Each vendor record with the order it belongs to. Records sharing an order reference are one order;
-- a record without a reference joins the referenced order of the same person and type converting
-- within `dedupe_window_minutes` (a repeat buyer may have two: the one of its value, then the nearest in time);
-- failing that, the one referenced order of the same brand, type, currency and
-- value converting within the window, if exactly one such order exists (a page that lost the reference still
-- reports what was bought, when, for how much); failing that, two such records of different vendors, each the
-- other's only match, are one order (a page that passed the reference to no vendor); anything else stands
-- alone. Records tied to no referenced order are flagged as unmatched.
{#- an orphan `o` (in the time bucket it looks in) and a record `r` another vendor reported for what was bought, when,
    for how much -#}
{{ config(materialized=diffed_materialization(), unique_key=['vendor', 'record_id']) }}

{%- set same_conversion_within_the_window -%}
    r.time_bucket = o.look_bucket
        and r.brand = o.brand
        and r.conversion_type = o.conversion_type
        and r.currency = o.currency
        and r.cents = o.cents
        and r.vendor <> o.vendor  -- a vendor reports an order once
        and abs({{ epoch_seconds('o.converted_at') }} - {{ epoch_seconds('r.converted_at') }}) <= {{ var('dedupe_window_minutes') }} * 60
{%- endset %}

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
        and abs({{ epoch_seconds('o.converted_at') }} - {{ epoch_seconds('r.converted_at') }}) <= {{ var('dedupe_window_minutes') }} * 60
    where o.order_ref is null
    qualify row_number() over (
        partition by o.vendor, o.record_id
        order by
            case when round(o.revenue * 100) = round(r.revenue * 100) then 0 else 1 end,
            abs({{ epoch_seconds('o.converted_at') }} - {{ epoch_seconds('r.converted_at') }}),
            r.order_ref
    ) = 1
),

keyed as (
    -- value in cents and time in buckets of the window, so that the match below is an equality join (a range
    -- join on value and time alone compares each orphan with every order of its brand and type)
    select
        records.*,
        b.brand,
        cast(round(records.revenue * 100) as bigint) as cents,
        cast(floor({{ epoch_seconds('records.converted_at') }} / ({{ var('dedupe_window_minutes') }} * 60)) as bigint) as time_bucket
    from records
    left join {{ ref('brands') }} as b on b.vendor = records.vendor and b.vendor_project = records.vendor_project
),

orphans_looking as (
    -- each orphan not matched to its person looks in its own time bucket and the two beside it
    select o.*, o.time_bucket + step.offset_buckets as look_bucket
    from keyed as o
    cross join (values (-1), (0), (1)) as step (offset_buckets)
    left join orphans_matched as m on m.vendor = o.vendor and m.record_id = o.record_id
    where o.order_ref is null and m.record_id is null
),

orphans_matched_by_value as (
    select
        o.vendor,
        o.record_id,
        min(r.order_ref) as matched_ref
    from orphans_looking as o
    inner join keyed as r
        on {{ same_conversion_within_the_window }}
        and r.order_ref is not null
    group by o.vendor, o.record_id
    having count(distinct r.order_ref) = 1
),

orphans_alone as (
    -- the orphans no referenced order took, each in the three buckets it looks in
    select o.*
    from orphans_looking as o
    left join orphans_matched_by_value as v on v.vendor = o.vendor and v.record_id = o.record_id
    where v.record_id is null
),

orphans_candidates as (
    -- each orphan's only candidate among the other vendors' orphans of its brand, type, currency and value
    select
        o.vendor,
        o.record_id,
        min(r.vendor) as other_vendor,
        min(r.record_id) as other_record_id
    from orphans_alone as o
    inner join orphans_alone as r
        on {{ same_conversion_within_the_window }}
        and r.look_bucket = r.time_bucket  -- each candidate once
    group by o.vendor, o.record_id
    having count(*) = 1
),

orphans_paired as (
    -- two orphans that are each other's only candidate: one order, keyed by the smaller of their record keys
    select
        c.vendor,
        c.record_id,
        case
            when c.vendor || ':' || c.record_id < c.other_vendor || ':' || c.other_record_id
                then c.vendor || ':' || c.record_id
            else c.other_vendor || ':' || c.other_record_id
        end as paired_key
    from orphans_candidates as c
    inner join orphans_candidates as back
        on back.vendor = c.other_vendor
        and back.record_id = c.other_record_id
        and back.other_vendor = c.vendor
        and back.other_record_id = c.record_id
),

matches as (
    select * from orphans_matched
    union all
    select * from orphans_matched_by_value
)

select
    records.*,
    coalesce(records.order_ref, m.matched_ref, p.paired_key, records.vendor || ':' || records.record_id) as order_key,
    records.order_ref is null and m.matched_ref is null as is_unmatched
from records
left join matches as m using (vendor, record_id)
left join orphans_paired as p using (vendor, record_id)
