-- Who each vendor's reports say the campaigns reached, converting or not: clicks and distinct visitors per
-- UTM dimension and value over the whole history, every project together (dimension `all`: the total).
-- ClickMagick's stats reports today.
select
    'clickmagick' as vendor,
    dimension,
    value,
    sum(visitors) as visitors,
    sum(clicks) as clicks
from {{ ref('stg_clickmagick__stats_reach') }}
group by all
