-- One row per validation error of a trashed event.
select
    t.id as trashed_event_id,
    t.project_id,
    t.event_type_ref,
    t.processing_date as processed_at,
    t.raw_event_date as raw_event_at,
    e.error_type,
    e.field_storage_key as field,
    e.field_entity,
    e.field_type,
    e.value
from {{ source('webmarketer', 'trashed_events') }} as t
left join {{ source_or_empty('webmarketer', 'trashed_events__errors', {
    'error_type': 'varchar', 'field_storage_key': 'varchar', 'field_entity': 'varchar', 'field_type': 'varchar',
    'value': 'varchar', '_dlt_parent_id': 'varchar'}) }} as e on e._dlt_parent_id = t._dlt_id
