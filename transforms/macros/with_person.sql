{#- Every row of `relation` with the stitched person of its identity node (`person_node`): the one join to
    int_identities__stitched. A row whose node is not stitched has no person and is left out. -#}
{% macro with_person(relation) %}
    select r.*, s.person_id
    from {{ relation }} as r
    inner join {{ ref('int_identities__stitched') }} as s on s.node = r.person_node
{% endmacro %}
