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
left join {{ source('webmarketer', 'trashed_events__errors') }} as e on e._dlt_parent_id = t._dlt_id
