-- Journeys as the models see them: touches within `path_lookback_days` of the journey's end, then each
-- of `path_transforms` in order, then the last `path_lookback_steps` touches (0 keeps all).
--   unique: identity | exposure: collapse consecutive repeats of a channel | first: first touch of each
--   channel | remove_if_not_all:X: drop channel X unless the path is all X |
--   remove_if_last_and_not_all:X: drop a trailing run of X unless the path is all X
-- Incremental by person, as int_journeys__assembled (macros/people_incremental.sql).
{% set transforms = var('path_transforms') %}
{%- set upstream = ref('int_journeys__assembled') %}
{{ config(
    materialized=people_materialization(),
    incremental_strategy='append',
    people_settings=[var('path_lookback_days'), var('path_transforms'), var('path_lookback_steps')],
    pre_hook="{{ delete_people_to_rebuild(ref('int_journeys__assembled')) }}",
    post_hook="{{ record_people_built(ref('int_journeys__assembled')) }}",
) }}

with

step_0 as (
    select *
    from {{ ref('int_journeys__assembled') }}
    where touched_at >= ends_at - interval {{ var('path_lookback_days') | int }} day
        and {{ people_to_rebuild(upstream) }}
),

{% for transform in transforms %}
{% set name, _, channel = transform.partition(':') %}
step_{{ loop.index }} as (
    {% if name == 'unique' %}
    select * from step_{{ loop.index0 }}
    {% elif name == 'exposure' %}
    select * from step_{{ loop.index0 }}
    qualify lag(channel) over (partition by journey_id order by touch_number) is distinct from channel
    {% elif name == 'first' %}
    select * from step_{{ loop.index0 }}
    qualify row_number() over (partition by journey_id, channel order by touch_number) = 1
    {% elif name == 'remove_if_not_all' %}
    select * from step_{{ loop.index0 }}
    qualify channel != '{{ channel }}' or bool_and(channel = '{{ channel }}') over (partition by journey_id)
    {% elif name == 'remove_if_last_and_not_all' %}
    select * from step_{{ loop.index0 }}
    qualify coalesce(touch_number <= max(case when channel != '{{ channel }}' then touch_number end)
                         over (partition by journey_id), true)
    {% else %}
    {{ exceptions.raise_compiler_error("unknown path transform '" ~ transform ~ "'") }}
    {% endif %}
),
{% endfor %}

numbered as (
    select
        {{ star_except(['touch_number']) }},
        touch_number as original_touch_number,
        row_number() over (partition by journey_id order by touch_number desc) as steps_from_end
    from step_{{ transforms | length }}
)

select
    {{ star_except(['steps_from_end']) }},
    -- a bigint on every engine (Spark's row_number is an int)
    cast(row_number() over (partition by journey_id order by original_touch_number) as bigint) as touch_number,
    count(*) over (partition by journey_id) as journey_touches
from numbered
{% if var('path_lookback_steps') | int > 0 %}
where steps_from_end <= {{ var('path_lookback_steps') }}
{% endif %}
