{{ stg_schema_drift('integr8') }}
