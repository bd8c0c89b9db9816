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
- The merge job's SQL (`SqlMergeFollowupJob.gen_select_from_dedup_sql`, the classmethod that de-duplicates
  staging by key) and the client method that creates merge jobs (`_create_merge_followup_jobs`): our DuckDB and
  DuckLake destinations (`bounded_duckdb`, `bounded_ducklake` below) de-duplicate in bounded memory.

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
from dlt.common.destination.reference import DestinationReference
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
from dlt.destinations.impl.duckdb.duck import DuckDbClient
from dlt.destinations.impl.duckdb.factory import duckdb as _dlt_duckdb
from dlt.destinations.impl.ducklake.configuration import DuckLakeClientConfiguration, DuckLakeCredentials
from dlt.destinations.impl.ducklake.ducklake import DuckLakeClient, DuckLakeMergeFollowupJob
from dlt.destinations.impl.ducklake.factory import ducklake as _dlt_ducklake
from dlt.destinations.sql_jobs import SqlMergeFollowupJob
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


# --- merge in bounded memory ------------------------------------------------------------------------------
class _KeyedDedup:
    """A merge job whose de-duplication of staging reads the keys, not every column.

    dlt keeps one staging row per key with `ROW_NUMBER() OVER (PARTITION BY key)` over all the columns it inserts.
    DuckDB's window operator holds that whole payload and does not reliably spill it: ClickMagick's sale credits
    at scale 1350 (about 4M rows of 19 columns) ran out of memory at a 1 GB limit, on every retry. Here a grouped
    aggregate over the keys and DuckDB's row id chooses the row kept per key (an aggregate that spills), and a
    semi-join on those row ids selects the rows. Same rows kept: any one per key, or the first by `dedup_sort`
    (its highest value for "desc", NULLs last, as dlt's window orders them).
    """

    @classmethod
    def gen_select_from_dedup_sql(cls, table_name: str, primary_keys: Any, columns: Any, dedup_sort: Any = None,
                                  condition: str | None = None, condition_columns: Any = None,
                                  skip_dedup: bool = False) -> str:
        if skip_dedup or '"rowid"' in columns or '"rowid"' in primary_keys:  # a real column named rowid hides it
            return super().gen_select_from_dedup_sql(  # type: ignore[misc, no-any-return]
                table_name, primary_keys, columns, dedup_sort, condition, condition_columns, skip_dedup)
        kept = "min(rowid)"
        if dedup_sort is not None:
            column, order = dedup_sort
            kept = f"coalesce({'arg_max' if order == 'desc' else 'arg_min'}(rowid, {column}), min(rowid))"
        return (f"SELECT {', '.join(columns)} FROM {table_name} WHERE rowid IN "
                f"(SELECT {kept} FROM {table_name} GROUP BY {', '.join(primary_keys)}) AND ({condition or '1 = 1'})")


class _DuckDbMerge(_KeyedDedup, SqlMergeFollowupJob):
    pass


class _DuckLakeMerge(_KeyedDedup, DuckLakeMergeFollowupJob):
    pass


class _DuckDbClient(DuckDbClient):
    def _create_merge_followup_jobs(self, table_chain: Any) -> list[Any]:
        return [_DuckDbMerge.from_table_chain(table_chain, self.sql_client)]


class _DuckLakeClient(DuckLakeClient):
    def _create_merge_followup_jobs(self, table_chain: Any) -> list[Any]:
        return [_DuckLakeMerge.from_table_chain(table_chain, self.sql_client)]


def _type_of(factory: type) -> str:
    return DestinationReference.normalize_type(f"{factory.__module__}.{factory.__qualname__}")


class bounded_duckdb(_dlt_duckdb):  # lower case, as dlt names its destination factories
    """dlt's `duckdb` destination whose merges de-duplicate in bounded memory (`_KeyedDedup`); pipeline state
    records it as dlt's own."""

    @property
    def destination_type(self) -> str:
        return _type_of(_dlt_duckdb)

    @property
    def client_class(self) -> type:
        return _DuckDbClient


class bounded_ducklake(_dlt_ducklake):
    """dlt's `ducklake` destination whose merges de-duplicate in bounded memory, recorded as dlt's own."""

    @property
    def destination_type(self) -> str:
        return _type_of(_dlt_ducklake)

    @property
    def client_class(self) -> type:
        return _DuckLakeClient


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
    "SignalReceived", "SourceSectionNotAvailable", "abort_pending_packages", "bounded_duckdb", "bounded_ducklake",
    "configspec",
    "forget_local_state", "incremental_mark",
    "intercepted_signals", "interruptible_sleep", "job_committed", "job_file_format", "job_table",
    "map_after_incremental", "pending_packages_carrying_state", "primary_key", "received_signal",
    "resolve_configuration",
    "rewind_incremental_mark", "schema_is_stored", "signal_received", "started_jobs", "stop_if_signalled",
    "table_sql_client", "write_disposition",
]
