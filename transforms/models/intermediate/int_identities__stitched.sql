-- One person per connected component of the identifier graph: the pre-hook labels each node with its
-- component's smallest node (macros/connected_components.sql); the person id is that node's md5, stable across
-- runs and independent of row order.
{{ config(
    pre_hook=hook_outside_transaction("{{ label_components(ref('int_identity__edges'), this) }}"),
    post_hook=hook_outside_transaction("drop table if exists {{ component_labels(this) }}", after=true),
) }}
-- depends_on: {{ ref('int_identity__edges') }}

select
    node,
    md5(label) as person_id
from {{ component_labels(this) }}
