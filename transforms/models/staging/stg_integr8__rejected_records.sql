{{ stg_rejected_records('integr8') }}
