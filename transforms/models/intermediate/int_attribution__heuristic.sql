-- Rule-based credit per conversion and touch: first_touch, last_touch, last_non_direct, linear,
-- position_based (40/20/40; one touch 100%, two 50/50) and time_decay (weight 2^(-age/half-life)).
-- Each model's credits for a conversion sum to 1; touches a model gives nothing are left out.
with

touches as (
    select
        conversion_id,
        touch_id,
        touch_number,
        journey_touches as n,
        channel,
        epoch(ends_at) - epoch(touched_at) as age_s,
        max(case when channel != 'direct' then touch_number end) over (partition by conversion_id)
            as last_non_direct_number
    from {{ ref('int_journeys__transformed') }}
    where conversion_id is not null
),

decay as (
    select
        *,
        pow(2.0, -age_s / ({{ var('time_decay_half_life_days') }} * 86400.0)) as decay_weight
    from touches
),

credits as (
    select conversion_id, touch_id, 'first_touch' as attribution_model, 1.0 as credit
    from touches where touch_number = 1
    union all
    select conversion_id, touch_id, 'last_touch', 1.0
    from touches where touch_number = n
    union all
    select conversion_id, touch_id, 'last_non_direct', 1.0
    from touches where touch_number = coalesce(last_non_direct_number, n)
    union all
    select conversion_id, touch_id, 'linear', 1.0 / n
    from touches
    union all
    select
        conversion_id,
        touch_id,
        'position_based',
        case
            when n = 1 then 1.0
            when n = 2 then 0.5
            when touch_number in (1, n) then 0.4
            else 0.2 / (n - 2)
        end
    from touches
    union all
    select conversion_id, touch_id, 'time_decay', decay_weight / sum(decay_weight) over (partition by conversion_id)
    from decay
)

select * from credits
