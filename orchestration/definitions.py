"""The Dagster definitions: assets, the whole-run job, its daily schedule, and checks.

- One multi-asset per vendor (`<vendor>_tables`), an asset per table the dbt project reads from it (its sources
  in transforms/models/staging/_sources.yml; a vendor added to the registry and the sources adds its assets).
  It runs `pipelines.run.extract`: recovery, the load, rejects and drift, as the runner does.
- The dbt project's models, seeds and tests (dagster-dbt, from the manifest), built by
  `pipelines.transform.run_transforms`: skipped when nothing changed since the last build, as in the runner.
  Its tests are the assets' checks.
- `published_marts` (every model in schema marts) and `push_<destination>` (the outboxes it reads).
- Freshness policies on every vendor table from the sources' `warn_after` / `error_after` in _sources.yml.

Every step takes the warehouse lock (a runner or another step holding it fails the step, as it would exit 75),
so the job runs its steps one after another in one process. A vendor that fails fails its own asset; the others
are materialized, and the models downstream wait for the next run (Dagster does not build on a failed
upstream; the runner does). When the build is skipped (nothing changed), publication and pushes are too.
"""


import contextlib
import json
import subprocess
from collections.abc import Iterator, Mapping
from datetime import timedelta
from typing import Any

import dagster as dg
from dagster import AssetExecutionContext
from dagster_dbt import DagsterDbtTranslator, dbt_assets
from dagster_dbt.asset_utils import get_asset_check_key_for_test

from pipelines.pushes import pushes_enabled, run_pushes
from pipelines.registry import DESTINATIONS, SOURCES
from pipelines.run import extract, publication_current, publish_step
from pipelines.transform import (
    dbt_command,
    dbt_cwd,
    dbt_environment,
    last_run_results,
    project_digest,
    run_transforms,
    start_from_shared_parse,
)
from pipelines.vendors import fill_sandbox_credentials
from warehouse import Warehouse
from warehouse.extensions import ensure_extensions
from warehouse.lock import CatalogLock, WarehouseBusy, WarehouseLock, warehouse_lock
from warehouse.publication import MARTS_SCHEMA

TRANSLATOR = DagsterDbtTranslator()
JOB = "whole_run"
DAILY = "0 6 * * *"  # UTC, after the vendors' day closes
PERIODS = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1), "day": timedelta(days=1)}


def dbt_manifest(warehouse: Warehouse) -> dict[str, Any]:
    """The dbt project's manifest for the warehouse's target, parsed again only when the project changed."""
    target = warehouse.dbt_dir() / "dagster"
    manifest, stamp = target / "manifest.json", target / "project_digest"
    digest = project_digest()
    if not (manifest.exists() and stamp.exists() and stamp.read_text() == digest):
        target.mkdir(parents=True, exist_ok=True)
        start_from_shared_parse(warehouse, target)
        parsed = subprocess.run(dbt_command("parse", "--target-path", str(target)), env=dbt_environment(warehouse),
                                cwd=dbt_cwd(warehouse), capture_output=True, text=True)
        if parsed.returncode != 0:
            raise RuntimeError(f"dbt parse failed: {parsed.stdout[-2000:]}")
        stamp.write_text(digest)
    return json.loads(manifest.read_text())


@contextlib.contextmanager
def locked(warehouse: Warehouse) -> Iterator[WarehouseLock | CatalogLock]:
    """The runner's warehouse lock for one step; held elsewhere, the step fails saying so."""
    try:
        with warehouse_lock(warehouse) as lock:
            ensure_extensions(warehouse.extensions())
            yield lock
    except WarehouseBusy as busy:
        raise dg.Failure(description=str(busy)) from busy


def source_keys(manifest: Mapping[str, Any], vendor: str) -> dict[dg.AssetKey, str]:
    """The asset key of each table the dbt project reads from `vendor` (its sources), with the table's name."""
    return {TRANSLATOR.get_asset_spec(manifest, unique_id, None).key: node["name"]
            for unique_id, node in sorted(manifest["sources"].items()) if node["source_name"] == vendor}


def model_keys(manifest: Mapping[str, Any], names: set[str] | None = None,
               schema: str | None = None) -> list[dg.AssetKey]:
    """The asset keys of the models named in `names`, or of those in `schema`."""
    return [TRANSLATOR.get_asset_spec(manifest, unique_id, None).key
            for unique_id, node in sorted(manifest["nodes"].items()) if node["resource_type"] == "model"
            and (names is None or node["name"] in names) and (schema is None or node["schema"] == schema)]


def vendor_assets(vendor: str, manifest: Mapping[str, Any], warehouse: Warehouse) -> dg.AssetsDefinition:
    tables = source_keys(manifest, vendor)
    policy = freshness_policy(manifest, vendor)
    specs = [dg.AssetSpec(key, group_name=vendor, kinds={"dlt", "duckdb"}, freshness_policy=policy,
                          description=f"{vendor}.{table}, loaded by sources/{vendor} (dlt)")
             for key, table in tables.items()]

    @dg.multi_asset(name=f"{vendor}_tables", specs=specs)
    def load(context: AssetExecutionContext) -> Iterator[dg.MaterializeResult]:
        with locked(warehouse):
            fill_sandbox_credentials([vendor])
            result = extract(vendor, warehouse)
        if result.status != "loaded":
            raise dg.Failure(description=f"{vendor} {result.status}: {result.error}",
                             metadata={"vendor": vendor, "seconds": round(result.seconds, 1)})
        if result.rejected or result.drift:
            context.log.warning(f"{vendor}: {result.rejected} records rejected; schema drift: {result.drift}")
        for key, table in tables.items():  # every table: rows 0 says the vendor was read and nothing changed
            yield dg.MaterializeResult(asset_key=key, metadata={"rows": result.rows.get(table, 0)})

    return load


def transform_assets(manifest: Mapping[str, Any], warehouse: Warehouse) -> dg.AssetsDefinition:
    @dbt_assets(manifest=manifest, name="transforms", dagster_dbt_translator=TRANSLATOR)
    def transforms(context: AssetExecutionContext) -> Iterator[Any]:
        names = [node["name"] for node in _selected_nodes(context, manifest)]
        with locked(warehouse) as lock:
            result = run_transforms(warehouse, select=" ".join(names) if context.is_subset else None,
                                    inherit_fds=lock.fds())
        if result.status in ("unchanged", "skipped"):  # nothing materialized: publication and pushes wait too
            context.log.info(f"dbt build {result.status}: {result.detail}")
            return
        if result.status != "built":
            raise dg.Failure(description=f"dbt build {result.status}: {result.detail}")
        yield from build_events(context, manifest, last_run_results(warehouse)["results"])

    return transforms


def _selected_nodes(context: AssetExecutionContext, manifest: Mapping[str, Any]) -> list[dict[str, Any]]:
    selected = set(context.selected_asset_keys)
    return [node for unique_id, node in manifest["nodes"].items() if node["resource_type"] in ("model", "seed")
            and TRANSLATOR.get_asset_spec(manifest, unique_id, None).key in selected]


def build_events(context: AssetExecutionContext, manifest: Mapping[str, Any], run_results: list[dict[str, Any]]
                 ) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """The build's outcome per node as Dagster sees it: a materialization per model or seed built, a check
    result per test attached to one (dbt's run_results.json)."""
    selected, checks = set(context.selected_asset_keys), set(context.selected_asset_check_keys)
    for result in run_results:
        unique_id, status = result["unique_id"], result["status"]
        node = manifest["nodes"].get(unique_id)
        if node is None:
            continue
        metadata = {"status": status, "seconds": round(float(result.get("execution_time") or 0), 2)}
        if node["resource_type"] in ("model", "seed") and status == "success":
            key = TRANSLATOR.get_asset_spec(manifest, unique_id, None).key
            if key in selected:
                yield dg.MaterializeResult(asset_key=key, metadata=metadata)
        elif node["resource_type"] == "test":
            check = get_asset_check_key_for_test(manifest, TRANSLATOR, unique_id, None)
            if check is not None and check in checks:
                yield dg.AssetCheckResult(asset_key=check.asset_key, check_name=check.name, passed=status == "pass",
                                          severity=dg.AssetCheckSeverity.WARN if node["config"].get("severity", "")
                                          .lower() == "warn" else dg.AssetCheckSeverity.ERROR, metadata=metadata)


def publication_asset(manifest: Mapping[str, Any], warehouse: Warehouse, publish_dir: str | None
                      ) -> dg.AssetsDefinition:
    @dg.multi_asset(name="publish", specs=[dg.AssetSpec(
        "published_marts", deps=model_keys(manifest, schema=MARTS_SCHEMA), group_name="outputs", kinds={"duckdb"},
        description="Every mart as a read-only snapshot and Parquet files for BI tools (pipelines/publish.py)",
        skippable=True)])
    def publish(context: AssetExecutionContext) -> Iterator[dg.MaterializeResult]:
        with locked(warehouse):
            if publication_current(warehouse, publish_dir):
                context.log.info("the publication is of the last build already")
                return
            result = publish_step(warehouse, publish_dir)
        if result.status != "published":
            raise dg.Failure(description=f"publishing failed: {result.detail}")
        yield dg.MaterializeResult(asset_key="published_marts", metadata={"path": result.path,
                                                                           "detail": result.detail})

    return publish


def push_asset(name: str, manifest: Mapping[str, Any], warehouse: Warehouse) -> dg.AssetsDefinition:
    outboxes = {outbox.model for outbox in DESTINATIONS[name].outboxes}

    @dg.multi_asset(name=f"push_{name}", specs=[dg.AssetSpec(
        f"push_{name}", deps=model_keys(manifest, names=outboxes), group_name="outputs", kinds={"python"},
        description=f"The outboxes pushed to {name} (destinations/{name}), each row once", skippable=True)])
    def push(context: AssetExecutionContext) -> Iterator[dg.MaterializeResult]:
        if not pushes_enabled():  # `[destinations] enabled = false`, as the runner reads it
            context.log.info("pushing is off ([destinations] enabled = false)")
            return
        with locked(warehouse):
            [result] = run_pushes(warehouse, [name])
        if result.status in ("failed", "partial"):
            raise dg.Failure(description=f"{name} {result.status}: {result.error or ''}",
                             metadata={"sent": result.sent})
        yield dg.MaterializeResult(asset_key=f"push_{name}", metadata={"status": result.status, "sent": result.sent})

    return push


def freshness_policy(manifest: Mapping[str, Any], vendor: str) -> dg.FreshnessPolicy | None:
    """The vendor's source freshness in _sources.yml (warn_after, error_after) as Dagster's policy on its tables."""
    limits = [node.get("freshness") or {} for node in manifest["sources"].values() if node["source_name"] == vendor]
    limit = next((limit for limit in limits if (limit.get("error_after") or {}).get("count")), None)
    if limit is None:
        return None

    def window(after: Mapping[str, Any] | None) -> timedelta | None:
        return after["count"] * PERIODS[after["period"]] if after and after.get("count") else None

    return dg.FreshnessPolicy.time_window(fail_window=window(limit["error_after"]),
                                          warn_window=window(limit.get("warn_after")))


def build_definitions(warehouse: Warehouse | str | None = None, publish_dir: str | None = None) -> dg.Definitions:
    warehouse = warehouse if isinstance(warehouse, Warehouse) else Warehouse.configured(warehouse)
    manifest = dbt_manifest(warehouse)
    vendors = [vendor_assets(vendor, manifest, warehouse) for vendor in SOURCES]
    assets = [*vendors, transform_assets(manifest, warehouse), publication_asset(manifest, warehouse, publish_dir),
              *(push_asset(name, manifest, warehouse) for name in DESTINATIONS)]
    # One process, steps in order: every step writes the one warehouse, under its lock.
    job = dg.define_asset_job(JOB, selection=dg.AssetSelection.all(), executor_def=dg.in_process_executor)
    return dg.Definitions(
        assets=assets, jobs=[job],
        schedules=[dg.ScheduleDefinition(name="daily", job_name=JOB, cron_schedule=DAILY, execution_timezone="UTC")],
    )


@dg.definitions
def defs() -> dg.Definitions:
    """For the configured warehouse (`dagster dev -m orchestration.definitions`); loaded when Dagster asks."""
    return build_definitions()
