{{ stg_schema_drift('webmarketer') }}
