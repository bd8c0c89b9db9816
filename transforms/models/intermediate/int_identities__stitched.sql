-- One person per connected component of the identifier graph: the pre-hook labels each node with its
-- component's smallest node (macros/connected_components.sql); the person id is that node's md5, stable across
-- runs and independent of row order.
-- Incremental: a run labels again only the components with an edge added or removed since the graph its rows
-- were built from (kept beside it), which replace their rows; the rest stay (a full build labels everything).
{{ config(
    materialized=people_materialization(),
    incremental_strategy='append',
    pre_hook=[
        hook_outside_transaction("{{ label_components(ref('int_identity__edges'), this) }}"),
        "{{ delete_relabelled_nodes(this) }}",
    ],
    post_hook=[
        "{{ record_components_built(this) }}",
        hook_outside_transaction("{{ stitching_scratch_dropped(this) }}", after=true),
    ],
) }}
-- depends_on: {{ ref('int_identity__edges') }}

select
    node,
    md5(label) as person_id
from {{ component_labels(this) }}
