"""Dagster assets for the scheduled job (optional extra `.[dagster]`): every vendor's tables, every dbt model, the
publication and each destination's push, with lineage from vendor table to mart. `make dagster` opens the UI.

    dagster dev -m orchestration.definitions          # the UI on the configured warehouse
    dagster definitions validate -m orchestration.definitions

The assets call the runner's own steps (pipelines.run, pipelines.transform, pipelines.pushes): the warehouse
lock, recovery before each vendor, rejects and drift, the skip-when-unchanged build, the publication check.
"""
