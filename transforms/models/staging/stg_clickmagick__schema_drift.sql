{{ stg_schema_drift('clickmagick') }}
