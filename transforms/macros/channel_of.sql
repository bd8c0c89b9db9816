{#-
  The channel of each row of `relation` (with columns `key`, `medium`, `source`): the first rule of the
  channel_groups seed, by priority, whose patterns match; `other` when none does. One row per key.
-#}
{% macro channel_of(relation, key) -%}
    select x.{{ key }}, coalesce(m.channel, 'other') as channel
    from {{ relation }} as x
    left join (
        select x.{{ key }}, r.channel
        from {{ relation }} as x
        inner join {{ ref('channel_groups') }} as r
            on regexp_full_match(coalesce(lower(x.medium), ''), r.medium_pattern)
            and regexp_full_match(coalesce(lower(x.source), ''), r.source_pattern)
        qualify row_number() over (partition by x.{{ key }} order by r.priority) = 1
    ) as m using ({{ key }})
{%- endmacro %}
