{#-
  The channel of each row of `relation` (with columns `key`, `medium`, `source`): the first rule of the
  channel_groups seed, by priority, whose patterns match; `other` when none does. One row per key.
  The rules are matched once per distinct (medium, source), a few hundred, not once per row: a regex join
  of every touch with every rule took a fifth of the build at a million touches.
-#}
{% macro channel_of(relation, key) -%}
    select
        x.{{ key }},
        coalesce(m.channel, 'other') as channel
    from {{ relation }} as x
    left join (
        select p.medium, p.source, r.channel
        from (
            select distinct coalesce(lower(medium), '') as medium, coalesce(lower(source), '') as source
            from {{ relation }}
        ) as p
        inner join {{ ref('channel_groups') }} as r
            on {{ regexp_full_match('p.medium', 'r.medium_pattern') }}
            and {{ regexp_full_match('p.source', 'r.source_pattern') }}
        qualify row_number() over (partition by p.medium, p.source order by r.priority) = 1
    ) as m
        on m.medium = coalesce(lower(x.medium), '')
        and m.source = coalesce(lower(x.source), '')
{%- endmacro %}
