"""Before a vendor's run: make the working state beside the warehouse agree with the warehouse.

Two ways it can disagree, both found by killing and restoring runs:
- A load killed after a file was copied but before dlt recorded the job done. dlt resumes the job
  without truncating staging again, so the file's rows are copied twice; a table with nested children
  merges by `_dlt_id`, and an appended table (Integr8's event logs) keeps whatever is copied, so both
  copies would reach the final table. We delete what the interrupted copy may have written (its rows'
  `_dlt_id`s; for Arrow files, which have none, its primary keys in this load) before the job runs again:
  each file is then copied exactly once.
- A warehouse restored from a backup. The local state (high-water marks, fingerprints) describes loads
  the warehouse no longer has and would win; the warehouse is the authority, so we drop the local state
  and dlt restores the state the warehouse holds, and the next run re-reads everything since then.
"""

from __future__ import annotations

import logging
from typing import Any

import pyarrow.parquet as pq

from dlt_adapter import (
    LOADS_TABLE,
    STATE_TABLE,
    DatabaseUndefinedRelation,
    LoadJobInfo,
    Pipeline,
    Schema,
    forget_local_state,
    job_committed,
    job_file_format,
    job_table,
    pending_packages_carrying_state,
    primary_key,
    started_jobs,
    table_sql_client,
    write_disposition,
)
from warehouse import literal

log = logging.getLogger(__name__)


def undo_interrupted_copies(pipeline: Pipeline) -> int:
    """Delete the rows that load jobs cut off mid-flight may have copied; returns how many went."""
    if pipeline.destination.destination_type.endswith(".filesystem"):
        return 0  # files, not tables: a job run again writes its own file again (same name), nothing doubles
    removed = 0
    for load_id, schema, job in started_jobs(pipeline):
        copied = _copied_rows(schema, job, load_id)
        if copied is None:
            continue
        table = job_table(job)
        with table_sql_client(pipeline, table) as sql:
            try:
                rows = sql.execute_sql(f"delete from {sql.make_qualified_table_name(table)} as t where {copied} "
                                       "returning 1")
            except DatabaseUndefinedRelation:
                continue  # the job died before its table was written
        removed += len(rows or [])
        if rows:
            log.warning("%s: removed %d rows of an interrupted copy of %s before copying it again",
                        pipeline.pipeline_name, len(rows), table)
    return removed


def _copied_rows(schema: Schema, job: LoadJobInfo, load_id: str) -> str | None:
    """For a started job dlt will run again, the condition on its table's rows (alias `t`) that selects what
    its copy wrote: the file's `_dlt_id`s; for an appended Arrow file, which has none, its primary keys in this
    load. None when nothing needs undoing: dlt marks a job whose copy committed (a pending transition beside
    the package) and does not re-run it, and a merge's primary-key de-duplication keeps one copy of a merged
    Arrow file's rows."""
    if job_committed(job) or job_file_format(job) != "parquet":
        return None
    table = job_table(job)
    if "_dlt_id" in pq.read_schema(job.file_path).names:
        keys, scope = ["_dlt_id"], ""
    elif write_disposition(schema, table) == "append":
        keys = primary_key(schema, table)
        scope = f"t._dlt_load_id = {literal(load_id)} and "
    else:
        return None
    if not keys:
        return None
    matched = " and ".join(f'f."{key}" = t."{key}"' for key in keys)
    return f"{scope}exists (select 1 from read_parquet({literal(str(job.file_path))}) as f where {matched})"


def _warehouse_state(pipeline: Pipeline) -> tuple[int, str | None]:
    """The newest state version the warehouse holds for this pipeline, from completed loads only, and its hash."""
    try:
        with pipeline.sql_client() as sql:
            rows = sql.execute_sql(
                f"select s.version, s.version_hash from {sql.make_qualified_table_name(STATE_TABLE)} s "
                f"join {sql.make_qualified_table_name(LOADS_TABLE)} l on l.load_id = s._dlt_load_id "
                "where l.status = 0 and s.pipeline_name = %s order by s.version desc limit 1", pipeline.pipeline_name)
    except DatabaseUndefinedRelation:
        return 0, None
    return (int(rows[0][0]), rows[0][1]) if rows else (0, None)


def resync_with_warehouse(pipeline: Pipeline) -> tuple[Pipeline, bool]:
    """Drop local state that is ahead of the warehouse by more than the packages still to load. Returns the
    pipeline to run and whether it is in step with the warehouse: no package pending and the warehouse's newest
    state is the local one, so dlt's own sync and its run of pending packages would do nothing."""
    local: Any = pipeline.state.get("_state_version", 0)
    if not local or not pipeline.default_schema_name:
        return pipeline, False  # nothing local yet: dlt restores from the warehouse by itself
    in_flight = pending_packages_carrying_state(pipeline)
    held, held_hash = _warehouse_state(pipeline)
    if local - in_flight <= held:
        in_step = (held, held_hash) == (local, pipeline.state.get("_version_hash")) and not pipeline.has_pending_data
        return pipeline, in_step
    log.warning("%s: the local state (version %d) describes loads the warehouse does not have (it holds version "
                "%d; restored from a backup?): re-syncing state from the warehouse", pipeline.pipeline_name,
                local, held)
    return forget_local_state(pipeline), False
