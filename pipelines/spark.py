"""The Spark warehouse kind's step after the loads: register what dlt wrote to the lake in the metastore
(warehouse/spark_lake.py), so Spark SQL reads each vendor's tables as merged tables, then build the dbt project on
Spark (type spark_session: dbt-spark, with the Python models run in dbt's own session: transforms/plugins).
The runner then publishes the marts and pushes the outboxes (pipelines/publish.py and pipelines/pushes.py read
them through the cluster)."""

from __future__ import annotations

import time

from pipelines.errors import describe
from pipelines.transform import TransformResult, dbt_command, failure_detail, last_lines, run_dbt
from warehouse import Warehouse, make_pipeline
from warehouse.spark_catalog import write_spark_defaults
from warehouse.spark_lake import register


def spark_step(warehouse: Warehouse, vendors: list[str], build: bool = True,
               inherit_fds: tuple[int, ...] = ()) -> TransformResult:
    """Registers the loaded vendors whose tables changed (a failure leaves their marks as they were, so the next
    run registers them), then, with `build`, builds the dbt project on the warehouse's cluster: every model, each
    run (plain Parquet tables have no delete, so nothing is incremental there), with its data tests; unit tests
    run on DuckDB (`make test`)."""
    started = time.monotonic()
    schemas = {vendor: make_pipeline(vendor, warehouse).default_schema for vendor in vendors}
    conf = warehouse.spark_conf()
    try:
        registered = register(conf, warehouse.hive_metastore(), warehouse.raw_path, schemas)
    except Exception as exc:
        return TransformResult("failed", time.monotonic() - started,
                               f"registering the lake's tables in the Hive metastore failed: {describe(exc)}")
    what = f"registered {', '.join(registered)}" if registered else "the metastore was up to date"
    if not build:
        return TransformResult("skipped", time.monotonic() - started, f"{what}; dbt not run (--no-transform)")
    try:  # dbt's own Spark session reads its settings from there
        write_spark_defaults(conf, warehouse.spark_defaults_file())
    except OSError as exc:
        return TransformResult("failed", time.monotonic() - started,
                               f"{what}; writing dbt's Spark settings failed: {describe(exc)}")
    code, output = run_dbt(dbt_command("build", "--exclude-resource-type", "unit_test"),
                           warehouse, inherit_fds)
    if code is None:
        return TransformResult("interrupted", time.monotonic() - started, f"{what}; dbt stopped")
    if code != 0:
        return TransformResult("failed", time.monotonic() - started,
                               f"{what}; dbt on Spark: {failure_detail(output, warehouse) or last_lines(output)}")
    return TransformResult("built", time.monotonic() - started, f"{what}; {last_lines(output)}")
