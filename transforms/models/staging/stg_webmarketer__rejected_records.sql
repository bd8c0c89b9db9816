{{ stg_rejected_records('webmarketer') }}
