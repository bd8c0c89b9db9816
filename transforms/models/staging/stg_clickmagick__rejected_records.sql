{{ stg_rejected_records('clickmagick') }}
