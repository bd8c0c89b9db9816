-- Data-driven credit brought down to conversions and touches. A model with one weight per channel (Markov,
-- simplified Shapley): each conversion splits its credit among the channels on its path in proportion to
-- their weights, a path whose channels all weigh nothing linearly. A model with its own split per journey
-- pattern (Shapley of the conversion model): each conversion takes its pattern's split (int_journeys__patterned).
-- Either way a channel's part goes equally to its touches; a channel the conversion's journey did not show
-- (credit the model infers for a journey seen in part) gets one row without a touch.
with

touches as (
    select conversion_id, touch_id, channel
    from {{ ref('int_journeys__transformed') }}
    where conversion_id is not null
),

weights as (
    -- a model's table has a pattern only when it splits each journey pattern itself
    {%- set columns = {'pattern': 'varchar', 'channel': 'varchar', 'share': 'double'} %}
    {%- set parts = [('', '(select ' ~ typed_nulls(columns) ~ ' where false)')] %}
    {%- for model in var('attribution_models')['data_driven'] %}
    {%- do parts.append((model, ref('int_channel_weights__' ~ model))) %}
    {%- endfor %}
    {{ union_all_by_name(parts, tag='attribution_model', columns=columns) }}
),

channel_weights as (
    select attribution_model, channel, share from weights where pattern is null
),

conversion_splits as (
    select w.attribution_model, p.conversion_id, w.channel, w.share
    from weights as w
    inner join {{ ref('int_journeys__patterned') }} as p using (pattern)
),

weighted as (
    select
        t.conversion_id,
        t.touch_id,
        t.channel,
        m.attribution_model,
        coalesce(w.share, 0) as share,
        count(*) over (partition by t.conversion_id, m.attribution_model, t.channel) as channel_touches,
        count(*) over (partition by t.conversion_id, m.attribution_model) as path_touches
    from touches as t
    cross join (select distinct attribution_model from channel_weights) as m
    left join channel_weights as w on w.attribution_model = m.attribution_model and w.channel = t.channel
),

by_channel_weight as (
    select
        conversion_id,
        touch_id,
        channel,
        attribution_model,
        case
            when path_weight > 0 then share / channel_touches / path_weight
            else 1.0 / path_touches
        end as credit
    from (
        select
            *,
            sum(share / channel_touches) over (partition by conversion_id, attribution_model) as path_weight
        from weighted
    )
),

by_conversion_split as (
    select
        s.conversion_id,
        t.touch_id,
        s.channel,
        s.attribution_model,
        s.share / count(*) over (partition by s.conversion_id, s.attribution_model, s.channel) as credit
    from conversion_splits as s
    left join touches as t on t.conversion_id = s.conversion_id and t.channel = s.channel
)

select * from by_channel_weight
union all
select * from by_conversion_split
