-- Markov and Shapley credit brought down to conversions and touches: each conversion splits its credit
-- among the channels on its path in proportion to their model weight (the channel's share), and a
-- channel's part equally among its touches. A path whose channels all weigh nothing is split linearly.
with

touches as (
    select conversion_id, touch_id, channel
    from {{ ref('int_journeys__transformed') }}
    where conversion_id is not null
),

weights as (
    {%- for model in var('attribution_models')['data_driven'] %}
    {% if not loop.first %}union all{% endif %}
    select '{{ model }}' as attribution_model, channel, share from {{ ref('int_channel_weights__' ~ model) }}
    {%- endfor %}
),

weighted as (
    select
        t.conversion_id,
        t.touch_id,
        m.attribution_model,
        coalesce(w.share, 0) as share,
        count(*) over (partition by t.conversion_id, m.attribution_model, t.channel) as channel_touches,
        count(*) over (partition by t.conversion_id, m.attribution_model) as path_touches
    from touches as t
    cross join (select distinct attribution_model from weights) as m
    left join weights as w on w.attribution_model = m.attribution_model and w.channel = t.channel
),

normalised as (
    select
        *,
        sum(share / channel_touches) over (partition by conversion_id, attribution_model) as path_weight
    from weighted
)

select
    conversion_id,
    touch_id,
    attribution_model,
    case
        when path_weight > 0 then share / channel_touches / path_weight
        else 1.0 / path_touches
    end as credit
from normalised
