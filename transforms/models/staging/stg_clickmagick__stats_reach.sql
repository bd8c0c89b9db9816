-- ClickMagick's stats reports over the whole history: per project, UTM dimension and value, the clicks and
-- distinct visitors (reach); dimension `all` is the project's total. Distinct visitors do not add up
-- across values of a dimension when one visitor clicked several.
{% set columns = {'project_id': 'bigint', 'dimension': 'varchar', 'value': 'varchar', 'clicks': 'bigint',
                  'unique_clicks': 'bigint', 'cost': 'double', 'window_start': 'timestamptz',
                  'row_key': 'varchar'} %}
select
    row_key,
    project_id,
    dimension,
    value,
    clicks,
    unique_clicks as visitors,
    window_start
from {{ source_or_empty('clickmagick', 'stats_reach', columns) }}
