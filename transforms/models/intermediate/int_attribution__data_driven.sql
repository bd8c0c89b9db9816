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

-- Counts and weights per conversion come from aggregates joined back, not from windows over every touch: DuckDB's
-- windows hold a partition's rows in memory, and over each touch of scale 1350 (twice, a row per model) they ran out
-- of memory at 512 MB; aggregates and joins spill.
channel_counts as (
    select conversion_id, channel, count(*) as channel_touches
    from touches
    group by conversion_id, channel
),

path_counts as (
    select conversion_id, sum(channel_touches) as path_touches
    from channel_counts
    group by conversion_id
),

-- a model's weight of a path: the sum of its channels' weights (each channel once, however many touches)
path_weights as (
    select c.conversion_id, m.attribution_model, sum(coalesce(w.share, 0)) as path_weight
    from channel_counts as c
    cross join (select distinct attribution_model from channel_weights) as m
    left join channel_weights as w on w.attribution_model = m.attribution_model and w.channel = c.channel
    group by c.conversion_id, m.attribution_model
),

by_channel_weight as (
    select
        t.conversion_id,
        t.touch_id,
        t.channel,
        p.attribution_model,
        case
            when p.path_weight > 0 then coalesce(w.share, 0) / c.channel_touches / p.path_weight
            else 1.0 / n.path_touches
        end as credit
    from touches as t
    inner join channel_counts as c on c.conversion_id = t.conversion_id and c.channel = t.channel
    inner join path_counts as n on n.conversion_id = t.conversion_id
    inner join path_weights as p on p.conversion_id = t.conversion_id
    left join channel_weights as w on w.attribution_model = p.attribution_model and w.channel = t.channel
),

-- a channel of the split that the journey did not show gets one row without a touch
by_conversion_split as (
    select
        s.conversion_id,
        t.touch_id,
        s.channel,
        s.attribution_model,
        s.share / coalesce(c.channel_touches, 1) as credit
    from conversion_splits as s
    left join channel_counts as c on c.conversion_id = s.conversion_id and c.channel = s.channel
    left join touches as t on t.conversion_id = s.conversion_id and t.channel = s.channel
)

select * from by_channel_weight
union all
select * from by_conversion_split
