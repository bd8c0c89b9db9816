-- The identifier graph: two identifiers are joined when one record carries both.
-- Nodes are prefixed keys: email: (md5 of the normalised address, so no address is copied here),
-- cmv: (ClickMagick visitor), dev: (device), wmu: (Webmarketer user),
-- ref: (order reference), i8tx: (Integr8 click transaction id, which ClickMagick sees as s2).
-- A pair repeats once per record that carries it: stitching numbers the nodes and makes the pairs distinct as
-- integers (macros/connected_components.sql), which spills where a distinct over the text pairs did not.
with

records as (
    select * from {{ ref('int_conversions__unioned') }}
),

record_edges as (
    select person_node as node_a, person_node as node_b from records
    union all
    select person_node, 'email:' || md5(email) from records where email is not null
    union all
    select person_node, 'ref:' || order_ref from records where order_ref is not null
    union all
    select person_node, 'i8tx:' || click_tx_id from records where click_tx_id is not null
),

credited_clicks as (
    select 'cmv:' || visitor_id as node_a, 'i8tx:' || integr8_tx_id as node_b
    from {{ ref('int_clickmagick__clicks') }}
    where integr8_tx_id is not null
),

integr8_clicks as (
    select 'i8tx:' || tx_id as node_a, 'dev:' || device_id as node_b
    from {{ ref('stg_integr8__clicks') }}
    where not is_bot
)

select node_a, node_b from record_edges
union all
select node_a, node_b from credited_clicks
union all
select node_a, node_b from integr8_clicks
