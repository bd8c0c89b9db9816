"""Everything this project takes from dlt beyond `dlt.pipeline`, `dlt.source`/`dlt.resource`, `dlt.config`
and `dlt.destinations.<name>(...)`: one module, so a dlt upgrade is checked here and by its contract tests
(`tests/contract/test_dlt_adapter.py`, seconds), not discovered by the slow kill-point tests.

Written against dlt 1.31.0 (pinned in pyproject.toml and requirements.lock). What we rely on, and where dlt
keeps it:
- Signals (`dlt.common.runtime.signals`): one process-wide handler for SIGINT/SIGTERM while a run lasts; dlt's
  steps stop at their next safe point when it fired, and so do ours (a Retry-After wait, dbt, a push).
- Load packages: a started job whose copy did not commit is run again by the next `load()` *without* staging
  being truncated again; a job whose copy committed has a "pending transition" file beside the package and is
  not run again (`PackageStorage.PENDING_TRANSITIONS_FOLDER`). `pipeline.abort_packages()` drops a pending
  package and restores the state and schemas from before it.
- State: a pipeline whose working directory was dropped restores its state from the destination
  (`_dlt_pipeline_state`, completed loads only) on its next run. An incremental keeps its high-water mark,
  before lag, at `resources.<name>.incremental.<cursor>.last_value` of the source state.
- The destination client: `get_stored_schema_by_hash`, `should_load_data_to_staging_dataset`,
  `with_staging_dataset` (merge tables are copied into `<dataset>_staging` first).
- Pipe steps: dlt orders a resource's steps by placement affinity (maps, then the incremental, then
  `add_limit`); a step of ours that must see what the incremental passed sits between the last two.
- DuckDB and DuckLake destination classes we subclass or configure (`dlt.destinations.impl.*`).

Upgrading dlt: change the pin, run `make test-fast` (the contract tests say which of the above moved), mend
this module only, then `make test`.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

from dlt.common.configuration import configspec, resolve_configuration
from dlt.common.configuration.exceptions import ConfigFieldMissingException
from dlt.common.configuration.specs import ConnectionStringCredentials
from dlt.common.destination import Destination, DestinationCapabilitiesContext
from dlt.common.exceptions import (
    DltException,
    PipelineStateNotAvailable,
    SignalReceivedException,
    SourceSectionNotAvailable,
)
from dlt.common.normalizers.naming import NamingConvention
from dlt.common.pipeline import ExtractInfo
from dlt.common.runtime import signals as _signals
from dlt.common.schema import Schema
from dlt.common.schema.utils import get_columns_names_with_prop, get_write_disposition
from dlt.common.storages.configuration import FilesystemConfiguration
from dlt.common.storages.load_package import LoadJobInfo, PackageStorage
from dlt.destinations.exceptions import DatabaseUndefinedRelation
from dlt.destinations.impl.duckdb.configuration import DuckDbConnectionPool, DuckDbCredentials
from dlt.destinations.impl.ducklake.configuration import DuckLakeClientConfiguration, DuckLakeCredentials
from dlt.destinations.impl.ducklake.factory import ducklake
from dlt.extract.items_transform import MapItem
from dlt.pipeline.pipeline import Pipeline

SignalReceived = SignalReceivedException
STATE_TABLE, LOADS_TABLE = "_dlt_pipeline_state", "_dlt_loads"


# --- signals -----------------------------------------------------------------------------------------------
def intercepted_signals() -> contextlib.AbstractContextManager[None]:
    """SIGINT and SIGTERM recorded for the block instead of raising: every step (dlt's and ours) checks them."""
    return _signals.intercepted_signals()


def signal_received() -> bool:
    return _signals.was_signal_received()


def received_signal() -> int:
    """The number of the signal received (call only when `signal_received()`)."""
    return _signals.exception_for_signal().signal_code  # type: ignore[attr-defined]


def interruptible_sleep(seconds: float) -> None:
    """Sleep that a received signal ends at once (returns; it does not raise)."""
    _signals.sleep(seconds)


def stop_if_signalled() -> None:
    """Raise `SignalReceived` if a signal was received."""
    _signals.raise_if_signalled()


# --- load packages -----------------------------------------------------------------------------------------
def abort_pending_packages(pipeline: Pipeline) -> None:
    """Drop the pipeline's pending packages; its state and schemas go back to before them."""
    pipeline.abort_packages()


def schema_is_stored(pipeline: Pipeline) -> bool:
    """Whether the destination holds the pipeline's current default schema (by its version hash)."""
    with pipeline.destination_client() as client:
        return client.get_stored_schema_by_hash(pipeline.default_schema.version_hash) is not None  # type: ignore[attr-defined]


def started_jobs(pipeline: Pipeline) -> Iterator[tuple[str, Schema, LoadJobInfo]]:
    """(load id, schema, job) of every job of the normalized packages that a load started."""
    for load_id in pipeline.list_normalized_load_packages():
        package = pipeline.get_load_package_info(load_id)
        for job in package.jobs["started_jobs"]:
            yield load_id, pipeline.schemas[package.schema_name], job


def job_committed(job: LoadJobInfo) -> bool:
    """Whether dlt recorded the started job's copy as done (or failed): then it does not run it again."""
    path = Path(job.file_path)
    marker = path.parent.parent / PackageStorage.PENDING_TRANSITIONS_FOLDER / path.name
    return marker.exists() and json.loads(marker.read_text()).get("state") in ("completed", "failed")


def job_table(job: LoadJobInfo) -> str:
    return job.job_file_info.table_name


def job_file_format(job: LoadJobInfo) -> str:
    return job.job_file_info.file_format


def pending_packages_carrying_state(pipeline: Pipeline) -> int:
    """How many extracted or normalized packages, not yet loaded, carry a state version."""
    pending = [*pipeline.list_extracted_load_packages(), *pipeline.list_normalized_load_packages()]
    return sum(any(job_table(job) == STATE_TABLE for jobs in pipeline.get_load_package_info(p).jobs.values()
                   for job in jobs) for p in pending)


@contextlib.contextmanager
def table_sql_client(pipeline: Pipeline, table: str) -> Iterator[Any]:
    """The SQL client on the dataset a load job of `table` writes to: `<dataset>_staging` for a merge table."""
    with pipeline.destination_client() as client:
        staged = client.should_load_data_to_staging_dataset(table)  # type: ignore[attr-defined]
        with client.with_staging_dataset() if staged else contextlib.nullcontext():  # type: ignore[attr-defined]
            yield client.sql_client  # type: ignore[attr-defined]


def forget_local_state(pipeline: Pipeline) -> Pipeline:
    """Drop the pipeline's working directory (state, schemas, packages): its next run restores the state the
    destination holds."""
    return pipeline.drop()


def incremental_mark(resource_state: dict[str, Any], cursor_field: str) -> Any:
    """The high-water mark an incremental on `cursor_field` keeps in its resource's state (before any lag), or
    None before its first run."""
    return ((resource_state.get("incremental") or {}).get(cursor_field) or {}).get("last_value")


def rewind_incremental_mark(resource_state: dict[str, Any], cursor_field: str, value: Any) -> None:
    """Set the high-water mark of the incremental on `cursor_field` back to `value`, from within its resource
    while it runs: dlt's incremental keeps this very dict as its state, so rows after it advance the mark from
    `value` on, and the load commits that. The boundary hashes belonged to the old mark: dropped."""
    column = resource_state.setdefault("incremental", {}).setdefault(cursor_field, {})
    column["last_value"] = value
    column["unique_hashes"] = []


class _AfterIncremental(MapItem):
    placement_affinity: ClassVar[float] = 1.05  # dlt keeps its incremental (1) behind every map, add_limit at 1.1


def map_after_incremental(resource: Any, item_map: Callable[[Any], Any]) -> Any:
    """Run `item_map` on each item the resource's incremental passed on (a map added with `add_map` runs before
    it: dlt orders a pipe's steps by their placement affinity, not by when they were added)."""
    return resource.add_step(_AfterIncremental(item_map))


def write_disposition(schema: Schema, table: str) -> str:
    return get_write_disposition(schema.tables, table)


def primary_key(schema: Schema, table: str) -> list[str]:
    return get_columns_names_with_prop(schema.get_table(table), "primary_key")


__all__ = [
    "LOADS_TABLE", "STATE_TABLE", "ConfigFieldMissingException", "ConnectionStringCredentials",
    "DatabaseUndefinedRelation", "Destination", "DestinationCapabilitiesContext", "DltException",
    "DuckDbConnectionPool", "DuckDbCredentials", "DuckLakeClientConfiguration", "DuckLakeCredentials",
    "ExtractInfo", "FilesystemConfiguration", "LoadJobInfo", "NamingConvention", "Pipeline",
    "PipelineStateNotAvailable", "Schema",
    "SignalReceived", "SourceSectionNotAvailable", "abort_pending_packages", "configspec", "ducklake",
    "forget_local_state", "incremental_mark",
    "intercepted_signals", "interruptible_sleep", "job_committed", "job_file_format", "job_table",
    "map_after_incremental", "pending_packages_carrying_state", "primary_key", "received_signal",
    "resolve_configuration",
    "rewind_incremental_mark", "schema_is_stored", "signal_received", "started_jobs", "stop_if_signalled",
    "table_sql_client", "write_disposition",
]
