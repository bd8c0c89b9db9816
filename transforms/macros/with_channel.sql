{#-
  Every row of `relation` (with columns `medium` and `source`) with its channel: the first rule of the
  channel_groups seed, by priority, whose patterns match; `other` when none does.
  The rules are matched once per distinct (medium, source), a few hundred, not once per row: a regex join
  of every touch with every rule took a fifth of the build at a million touches. The pairs come from
  `pairs_from` when given (a relation holding at least the pairs of `relation`, cheaper to read: a table `relation`
  is a join over), and the channel joins each row by its pair: a channel per key joined back to the rows read
  them three times (int_touches__classified at scale 45: 0.99-1.25 s, now 0.70-0.79 s).
-#}
{% macro with_channel(relation, pairs_from=none) -%}
    select
        x.*,
        coalesce(m.channel, 'other') as channel
    from {{ relation }} as x
    left join (
        select p.medium, p.source, r.channel
        from (
            select distinct coalesce(lower(medium), '') as medium, coalesce(lower(source), '') as source
            from {{ pairs_from or relation }}
        ) as p
        inner join {{ ref('channel_groups') }} as r
            on {{ regexp_full_match('p.medium', 'r.medium_pattern') }}
            and {{ regexp_full_match('p.source', 'r.source_pattern') }}
        qualify row_number() over (partition by p.medium, p.source order by r.priority) = 1
    ) as m
        on m.medium = coalesce(lower(x.medium), '')
        and m.source = coalesce(lower(x.source), '')
{%- endmacro %}
