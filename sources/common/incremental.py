"""Time windows and change detection for sources that re-read a lookback period.

Vendors without an update timestamp (ClickMagick, Integr8 conversions) restate records in place: a
sale gets refunded, a conversion gets approved. We re-read a lookback window each run and pass on
only records whose content changed since the last successful load, so a re-run loads nothing and
an advance loads only what is new or different. The fingerprints of what was passed on are loaded in
the same load, into the warehouse table `_fingerprints_<table>` (the record's key and cursor, and the
fingerprint), and read back from completed loads only: a failed run leaves them, and the data, as they
were, and dlt state stays small whatever the volume. Only the fingerprints a later run reads back are kept:
those within the lookback before the new high-water mark (`read_back_from`).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import threading
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any

import dlt
import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from dlt_adapter import (
    DatabaseUndefinedRelation,
    DltException,
    PipelineStateNotAvailable,
    SourceSectionNotAvailable,
    incremental_mark,
    map_after_incremental,
    rewind_incremental_mark,
)
from sources.common.contract import CLOCK_SKEW, FROZEN_TYPES, REJECTS_HINTS, REJECTS_TABLE, Contract, as_moment
from sources.common.drift import DRIFT_HINTS, DRIFT_TABLE, UNDOCUMENTED_METADATA, Drift
from sources.common.times import now_utc, utc
from warehouse import LOADER_FILE_FORMAT

# times re-exported
__all__ = ["ChangeFilter", "contract_resources", "dimension", "fingerprints_table", "lookback_resource", "now_utc",
           "read_from", "utc", "windows"]

# Records with an open rejection pull the next run's start back to where they were listed, this far before the
# high-water mark at most: a record the vendor never fixes is not chased through all history on every run.
REREAD_REJECTED = timedelta(days=92)


def read_from(cursor_start: Any, initial: datetime, backfill: datetime | None) -> datetime:
    """Where a run starts reading: the backfill date if given, else the incremental cursor's start
    (the last high-water mark less the lookback, which dlt applies as `lag`), never before `initial`."""
    if backfill is not None:
        return backfill
    return max(initial, utc(cursor_start)) if cursor_start else initial


def windows(start: datetime, end: datetime, size: timedelta) -> Iterator[tuple[datetime, datetime]]:
    """Consecutive half-open [a, b) windows covering [start, end)."""
    if size <= timedelta(0):
        raise ValueError("window size must be positive")
    current = start
    while current < end:
        nxt = min(current + size, end)
        yield current, nxt
        current = nxt


def fingerprint(record: Any) -> str:
    blob = json.dumps(record, sort_keys=True, default=str, separators=(",", ":")).encode()
    return hashlib.blake2b(blob, digest_size=10).hexdigest()


def dimension(name: str, **hints: Any) -> Callable[[Callable[[], Iterable[list[dict[str, Any]]]]], Any]:
    """A merge resource over a table read whole every run (projects, offers, campaigns): its rows are passed
    on only when their content differs from what the last successful load held, so a run with nothing new
    loads nothing. The content digest lives in resource state, committed with the load."""

    def wrap(read: Callable[[], Iterable[list[dict[str, Any]]]]) -> Any:
        def rows_if_changed() -> Iterator[list[dict[str, Any]]]:
            rows = [row for page in read() for row in page]
            digest = fingerprint(sorted(fingerprint(row) for row in rows))
            state = dlt.current.resource_state()
            if state.get("content_digest") == digest:
                return
            state["content_digest"] = digest
            if rows:
                yield rows

        return dlt.resource(rows_if_changed, name=name, write_disposition="merge", **hints)

    return wrap


_CLIENT_LOCK = threading.Lock()


@functools.cache
def _hasher() -> duckdb.DuckDBPyConnection:
    """The in-memory database that hashes Arrow batches (ChangeFilter.changed_rows), opened on first use and
    kept: opening one costs ~30 ms, a cursor on it nothing."""
    return duckdb.connect()


def fingerprints_table(name: str) -> str:
    """Where the fingerprints of table `name`'s loaded records live, beside it in the warehouse."""
    return f"_fingerprints_{name}"


def no_fingerprints() -> pa.Table:
    return pa.table({"id": pa.array([], pa.string()), "fp": pa.array([], pa.string())})


def newest_versions(table: str, key: str, cursor: str, since: datetime, value: str, empty: pa.Table,
                    missing: type[Exception] = DatabaseUndefinedRelation) -> pa.Table:
    """`key` (as `id`) and the expression `value` (over alias `t`) of every record of `table` with a cursor at or
    after `since`, in its newest completed load (a merged table holds one version, an appended log many), read
    from the warehouse the running pipeline loads into; `empty` when that raises `missing` (no table yet)."""
    # One at a time: dlt runs parallelized resources in threads that share the pipeline's config context, and
    # opening a client enters and leaves a config section in it, which two threads at once would interleave.
    with _CLIENT_LOCK, contextlib.suppress(missing), dlt.current.pipeline().sql_client() as sql:
        rows_of, loads = sql.make_qualified_table_name(table), sql.make_qualified_table_name("_dlt_loads")
        query = (f'select t."{key}"::varchar as id, {value} from {rows_of} as t semi join {loads} as l '
                 f'on t._dlt_load_id = l.load_id and l.status = 0 where t."{cursor}" >= %s '
                 f'qualify row_number() over (partition by t."{key}" order by t._dlt_load_id desc) = 1')
        with sql.execute_query(query, since) as rows:
            return rows.arrow() or empty
    return empty


def known_fingerprints(name: str, key: str, cursor: str, since: datetime) -> pa.Table:
    """The fingerprint (`fp`) of each record id (`id`) of table `name` with a cursor at or after `since`, as of
    its newest completed load. Empty before the first load."""
    return newest_versions(fingerprints_table(name), key, cursor, since, "t.fingerprint as fp", no_fingerprints())


# dlt's data types as Arrow types, for a column carried forward from the warehouse
ARROW_TYPES = {"text": pa.string(), "double": pa.float64(), "decimal": pa.float64(), "bigint": pa.int64(),
               "bool": pa.bool_(), "timestamp": pa.timestamp("us", tz="UTC"), "date": pa.date32()}


def stored_values(name: str, key: str, cursor: str, since: datetime, column: str) -> pa.Table:
    """`column`'s value (`value`) for each record id (`id`) of table `name` with a cursor at or after `since`, as of
    its newest completed load. Empty when the table or the column is not in the warehouse."""
    empty = pa.table({"id": pa.array([], pa.string()), "value": pa.array([], pa.null())})
    return newest_versions(name, key, cursor, since, f't."{column}" as value', empty, missing=DltException)


def carried_forward(batch: Batch, missing: set[str], name: str, key: str, cursor: str, since: datetime,
                    declared: dict[str, dict[str, Any]]) -> Batch:
    """`batch` with each documented column in `missing` that a record left out set to the value the warehouse
    holds for it (sources.common.drift): a field the vendor stopped sending never overwrites a loaded value."""
    for column in sorted(missing):
        stored = stored_values(name, key, cursor, since, column)
        if isinstance(batch, pa.Table):
            where = pc.index_in(pc.cast(batch[key], pa.string()), value_set=stored["id"])
            values = pc.take(stored["value"], where)
            kind = ARROW_TYPES.get(str(declared.get(column, {}).get("data_type")))
            batch = batch.append_column(column, values.cast(kind) if kind is not None else values)
            continue
        known = dict(zip(stored["id"].to_pylist(), stored["value"].to_pylist(), strict=True))
        for row in batch:
            if column not in row and str(row[key]) in known:
                row[column] = known[str(row[key])]
    return batch


def without_drift_notes(table: pa.Table) -> pa.Table:
    metadata = {k: v for k, v in (table.schema.metadata or {}).items() if k != UNDOCUMENTED_METADATA}
    return table.replace_schema_metadata(metadata or None)


class ChangeFilter:
    """Which records are new or differ from their version last loaded (`known`: record id `id`, fingerprint
    `fp`), and the fingerprints of those passed on, as rows of `_fingerprints_<table>` (key, cursor,
    fingerprint) to load beside them: `passed()` hands over those gathered since its last call.

    `changed` serves JSON records one at a time; `changed_rows` serves Arrow tables whole, hashing rows in
    DuckDB and comparing in Arrow, so a million-row export costs no per-row Python.
    """

    def __init__(self, known: pa.Table | None, key: str, cursor: str) -> None:
        self.key, self.cursor = key, cursor
        self._known = no_fingerprints() if known is None else known
        self._known_pairs: pa.Array | None = None  # "id|fp" of every known record, for Arrow batches
        self._seen: dict[str, str] | None = None  # id -> fp, for JSON records (and those passed this run)
        self._rows: list[dict[str, Any]] = []
        self._tables: list[pa.Table] = []
        self._unhashed: list[pa.Table] = []  # Arrow batches passed whole: hashed when `passed()` knows what to keep

    def changed(self, record: dict[str, Any]) -> bool:
        if self._seen is None:
            self._seen = dict(zip(*(self._known.column(c).to_pylist() for c in ("id", "fp")), strict=True))
        record_id, value = str(record[self.key]), fingerprint(record)
        if self._seen.get(record_id) == value:
            return False
        self._seen[record_id] = value
        self._rows.append({self.key: record[self.key], self.cursor: record[self.cursor], "fingerprint": value})
        return True

    def changed_rows(self, table: pa.Table) -> pa.Table:
        """The rows of `table` that are new or differ from what was last loaded."""
        if table.num_rows == 0:
            return table
        if self._known.num_rows == 0:  # nothing loaded in the range (a first load, a backfill): every row passes
            self._unhashed.append(table)
            return table
        prints = self._fingerprints(table)
        if self._known_pairs is None:
            self._known_pairs = pc.binary_join_element_wise(self._known["id"], self._known["fp"], "|")
        pairs = pc.binary_join_element_wise(prints["id"], prints["fp"], "|")
        fresh = pc.invert(pc.is_in(pairs, value_set=self._known_pairs))
        if pc.all(fresh).as_py():  # a first load or an export of new rows: no copy of the whole table
            passed, prints_passed = table, prints["fp"]
        else:
            passed, prints_passed = table.filter(fresh), prints["fp"].filter(fresh)
        self._tables.append(passed.select([self.key, self.cursor]).append_column("fingerprint", prints_passed))
        return passed

    def _fingerprints(self, table: pa.Table) -> pa.Table:
        """`id` (the key as text) and `fp` (a hash of the whole row) of each row of `table`, in its order."""
        con = _hasher().cursor()  # a connection of its own to the shared in-memory database: cheap, thread-safe
        con.register("incoming", table)
        # A projection keeps the scan's order (insertion order is preserved), so row i is table's row i.
        prints = con.sql(f'select "{self.key}"::varchar as id, hex(hash(incoming)) as fp from incoming')
        out = prints.to_arrow_table()
        con.close()
        return out

    def passed(self, misplaced: set[str] | frozenset[str] = frozenset(), position: Any = None,
               keep_from: datetime | None = None) -> list[dict[str, Any]] | pa.Table:
        """The fingerprint rows of the records passed on since the last call; those of `misplaced` records (their
        cursor rejected as implausible) carry `position` as cursor instead, so they never move the mark.

        Only those with a cursor from `keep_from` on are kept (all when None): a later run compares the records it
        reads back, within its lookback, and no older fingerprint is ever read. A backfill of months thus writes a
        few days of fingerprints, and the table does not grow with all history."""
        misplaced_ids = pa.array(sorted(misplaced), pa.string())
        for table in self._unhashed:  # hash only the rows whose fingerprints are kept
            recent = _at_or_after(table[self.cursor], keep_from)
            if recent is not None:  # and the misplaced, whose cursor becomes `position` below
                kept = pc.or_kleene(recent, pc.is_in(pc.cast(table[self.key], pa.string()), value_set=misplaced_ids))
                table = table.filter(pc.fill_null(kept, True))
            prints = self._fingerprints(table)["fp"]
            self._tables.append(table.select([self.key, self.cursor]).append_column("fingerprint", prints))
        self._unhashed = []
        if self._tables:
            out: list[dict[str, Any]] | pa.Table = pa.concat_tables(self._tables)
            if misplaced:
                ids = pc.cast(out[self.key], pa.string())
                moved = pc.is_in(ids, value_set=misplaced_ids)
                cursor = out[self.cursor]
                out = out.set_column(out.schema.get_field_index(self.cursor), self.cursor,
                                     pc.if_else(moved, pa.scalar(position, type=cursor.type), cursor))
            recent = _at_or_after(out[self.cursor], keep_from)
            if recent is not None:
                out = out.filter(recent)
        else:
            out = [{**row, self.cursor: position} if str(row[self.key]) in misplaced else row for row in self._rows]
            if keep_from is not None:
                out = [row for row in out if _not_before(row[self.cursor], keep_from)]
        self._rows, self._tables = [], []
        return out


def read_back_from(state: dict[str, Any], cursor_field: str, lookback: timedelta) -> datetime | None:
    """Where the next run of the resource with this `state` starts comparing records: its high-water mark (as the
    rows passed so far moved it) less the lookback, or earlier where a record waiting for a fix was listed. None
    while there is no mark, or it is not a time."""
    mark = incremental_mark(state, cursor_field)
    if not isinstance(mark, datetime):
        return None
    since, waiting = utc(mark) - lookback, Contract.waiting_since(state)
    return min(since, waiting) if waiting else since


def _at_or_after(cursor: pa.ChunkedArray, moment: datetime | None) -> pa.ChunkedArray | None:
    """Which values of an Arrow cursor column lie at or after `moment`; None when there is no moment, or the
    cursor is not a time to compare with one."""
    if moment is None or not pa.types.is_timestamp(cursor.type):
        return None
    return pc.greater_equal(cursor, pa.scalar(moment, type=cursor.type))


def _not_before(value: Any, moment: datetime) -> bool:
    """A JSON record's cursor at or after `moment`; one that is no time is kept (it has no place to drop it by)."""
    at = as_moment(value)
    return at is None or at >= moment


Batch = list[dict[str, Any]] | pa.Table
RangeReader = Callable[[datetime, datetime], Iterable[Batch]]
Completer = Callable[[list[dict[str, Any]]], list[dict[str, Any]]]


# The tables every resource with a data contract writes to, beside its own: rejections and schema drift.
CONTRACT_TABLES: dict[str, dict[str, Any]] = {REJECTS_TABLE: REJECTS_HINTS, DRIFT_TABLE: DRIFT_HINTS}


def contract_resources() -> list[Any]:
    """The source's `rejected_records` and `schema_drift` tables as resources of their own, to list first.

    Every resource with a contract writes to them, and dlt records in a table's schema the resource that
    reached it first in each extract. Read side by side, that was whichever got there first, so the schema (and
    with it a run with nothing new) changed from run to run. Owned by these resources, which dlt reads before
    the others, the tables' schemas no longer depend on their order."""

    def owned(name: str, hints: dict[str, Any]) -> Any:
        def table() -> Iterator[Any]:
            yield dlt.mark.materialize_table_schema()  # the table exists before its first row

        return dlt.resource(table, name=name, **hints)

    return [owned(name, hints) for name, hints in CONTRACT_TABLES.items()]


def with_contract_tables(resource: Any) -> Any:
    """Give `resource` a variant of each contract table with its own columns and key: a variant starts as a
    copy of the resource's hints, so its columns are emptied first (see sources.common.contract)."""
    for name, hints in CONTRACT_TABLES.items():
        resource.apply_hints(table_name=name, columns={}, create_table_variant=True)
        resource.apply_hints(table_name=name, create_table_variant=True, file_format=LOADER_FILE_FORMAT, **hints)
    return resource


def with_fingerprints_table(resource: Any, name: str, key: str, cursor: str,
                            declared: dict[str, dict[str, Any]]) -> Any:
    """Give `resource` its `_fingerprints_<name>` table: appended, the record's key and cursor (typed as the
    record declares them) and the fingerprint. Keyed like the records, so dlt's incremental treats both alike
    and pipelines.recovery can undo a killed copy of either. Written as Parquet like the records: the loader
    file format a run asks for reaches a resource's own table only, and a variant left to DuckDB's preferred
    `insert_values` was one SQL statement of every row (ClickMagick's load: 0.16 GiB of its peak at scale 45)."""
    table = fingerprints_table(name)
    resource.apply_hints(table_name=table, columns={}, create_table_variant=True)
    columns = {key: {**declared.get(key, {}), "name": key}, cursor: {**declared.get(cursor, {}), "name": cursor},
               "fingerprint": {"name": "fingerprint", "data_type": "text"}}
    resource.apply_hints(table_name=table, write_disposition="append", primary_key=key, columns=columns,
                         create_table_variant=True, file_format=LOADER_FILE_FORMAT)
    return resource


def lookback_resource(name: str, *, primary_key: str, cursor_field: str, read: RangeReader, initial: datetime,
                      lookback: timedelta, stop: datetime | None = None, backfill: datetime | None = None,
                      write_disposition: str = "merge", complete: Completer | None = None, **hints: Any) -> Any:
    """A resource that re-reads `lookback` before its high-water mark and passes on only changes.

    `write_disposition` "merge" keeps one row per key; "append" keeps every version a load passed on (a log:
    the current row of a key is its version in the newest completed load, see the dbt macro
    `latest_loaded`), which copies a large export into the warehouse once instead of twice.

    `read(begin, end)` is the vendor's part: its paging and row shaping, yielding batches (lists of dict
    rows, or Arrow tables) of the records in [begin, end). `complete(rows)`, if given, is too: `read` yields a
    cheaper probe of each record, enough to tell whether it changed, and `complete` adds the rest to the
    probes of the records passed on (ClickMagick lists one model's credits to detect changes, the others only
    where something changed). Everything else is here: where the read starts
    (backfill, else the cursor less the lookback, applied by dlt as `lag`), the change filter whose
    fingerprints are loaded with the records into `_fingerprints_<name>` (read back for the lookback only),
    materializing the table before its first record, and the data contract of declared `columns`
    (and `nested_hints`) for JSON rows: what does not fit goes to `rejected_records` (whose source lists
    `contract_resources()` first; a documented field a record leaves out keeps its loaded value and is recorded
    in `schema_drift`, see sources.common.drift). A backfill passes every record on.
    """

    declared = {k: v for k, v in (hints.get("columns") or {}).items() if isinstance(v, dict)}
    lag_s = lookback.total_seconds()
    if backfill is not None:  # dlt filters rows before its start (the mark less `lag`): reach back to the backfill
        lag_s = max(lag_s, (now_utc() - backfill).total_seconds())
    elif declared:  # records waiting for a fix: reach back to where they were listed
        lag_s = max(lag_s, _rejected_reach_s(name, cursor_field))
    # A mark in the future was written before cursor times were checked (a 2099 sale): read from where the loaded
    # data end, and set the mark back there once the resource runs.
    implausible_reach_s = _implausible_mark_reach_s(name, cursor_field, initial)
    lag_s += implausible_reach_s
    nested = {key: dict(nested_hint.get("columns") or {})
              for key, nested_hint in (hints.get("nested_hints") or {}).items()}
    if declared:  # documented types are fixed: what does not fit is rejected, never a variant column
        hints.setdefault("schema_contract", FROZEN_TYPES)

    # No initial value for dlt: a first run (no mark yet) then has no start, and dlt's incremental does not filter
    # what `read` returned from `initial` on, which only copied every Arrow batch (0.25 s of a million-row export's
    # first load). Later runs start from the mark less `lag`, as before; `read_from` applies `initial` itself.
    @dlt.resource(name=name, primary_key=primary_key, write_disposition=write_disposition, **hints)
    def resource(
        cursor: dlt.sources.incremental[Any] = dlt.sources.incremental(cursor_field, initial_value=None, lag=lag_s),
    ) -> Iterator[Any]:
        begin = read_from(cursor.start_value, initial, backfill)
        state = dlt.current.resource_state()
        if implausible_reach_s:
            rewind_incremental_mark(state, cursor_field, begin)  # the rows read advance it from here
        state.pop("fingerprints", None)  # kept in dlt state before they moved to the warehouse
        # The state says the warehouse's fingerprints are ours: a refresh (which wipes state at once but drops
        # the tables only when it loads) or the first run after the move starts from none.
        trusted = state.get("fingerprints_in") == fingerprints_table(name)
        known = known_fingerprints(name, primary_key, cursor_field, begin) if trusted else None
        state["fingerprints_in"] = fingerprints_table(name)
        seen = ChangeFilter(known, primary_key, cursor_field)
        end = stop or now_utc()
        contract = Contract(name, primary_key, cursor_field, declared, nested, state,
                            cursor_range=(begin, end + CLOCK_SKEW)) if declared else None
        drift = Drift(name, primary_key, declared, nested, state) if declared else None
        yield dlt.mark.materialize_table_schema()  # the table exists even before its first record
        for batch in read(begin, end):
            missing = drift.observe(batch) if drift else set()
            if isinstance(batch, pa.Table) and batch.schema.metadata:
                batch = without_drift_notes(batch)
            # The filter runs on a backfill too, so its fingerprints describe what was loaded.
            if isinstance(batch, pa.Table):
                changed: Batch = seen.changed_rows(batch)
            else:
                changed = [row for row in batch if seen.changed(row)]
            passed = batch if backfill else changed
            if complete is not None and isinstance(passed, list) and passed:
                passed = complete(passed)
            if contract:
                passed, rejected = contract.split(passed) if isinstance(passed, list) else contract.split_table(passed)
                if rejected:
                    yield dlt.mark.with_table_name(rejected, REJECTS_TABLE)
            if missing and len(passed):
                passed = carried_forward(passed, missing, name, primary_key, cursor_field, begin, declared)
            if len(passed):
                yield with_cursor_required(passed, cursor_field)
            misplaced = contract.misplaced if contract else frozenset()
            prints = seen.passed(misplaced, begin, read_back_from(state, cursor_field, lookback))
            if len(prints):  # loaded with the records they describe: both commit, or neither
                yield dlt.mark.with_table_name(with_cursor_required(prints, cursor_field), fingerprints_table(name))
        drifted = drift.rows(cursor_field, begin) if drift else []
        if drifted:  # committed with the state that says it is open
            yield dlt.mark.with_table_name(drifted, DRIFT_TABLE)

    resource = with_fingerprints_table(resource, name, primary_key, cursor_field, declared)
    # once dlt's incremental has seen them, the batches' cursor is nullable again, as in the tables' schemas
    map_after_incremental(resource, lambda batch: with_cursor_nullable(batch, cursor_field))
    return with_contract_tables(resource) if declared else resource


def with_cursor_required(batch: Batch, cursor: str) -> Batch:
    """An Arrow batch whose cursor holds no null (the contract rejects such records) with its cursor field marked
    not nullable, for dlt's incremental only: it splits a nullable cursor column into rows with and without a
    value first, two copies of the whole batch (0.8 s of a million-row export). No data is copied."""
    if not isinstance(batch, pa.Table) or batch[cursor].null_count or not batch.schema.field(cursor).nullable:
        return batch
    return _cursor_nullable(batch, cursor, False)


def with_cursor_nullable(batch: Any, cursor: str) -> Any:
    """`with_cursor_required` undone once dlt's incremental has seen the batch: the table's schema keeps the
    nullable cursor it was created with (dlt's frozen types refuse a change of nullability)."""
    if not isinstance(batch, pa.Table) or cursor not in batch.column_names or batch.schema.field(cursor).nullable:
        return batch
    return _cursor_nullable(batch, cursor, True)


def _cursor_nullable(batch: pa.Table, cursor: str, nullable: bool) -> pa.Table:
    where = batch.schema.get_field_index(cursor)
    return batch.cast(batch.schema.set(where, batch.schema.field(where).with_nullable(nullable)))


def _state_when_made(name: str) -> dict[str, Any]:
    """Resource `name`'s state as the source is made; empty when it is made outside a source, or before any
    pipeline is active (then nothing waits and no mark is known: the resource reads as configured)."""
    try:
        return dlt.current.source_state().get("resources", {}).get(name, {})
    except (SourceSectionNotAvailable, PipelineStateNotAvailable):
        return {}


def _rejected_reach_s(name: str, cursor_field: str) -> float:
    """How far before its high-water mark resource `name` must read for the vendor's fix to reach its earliest
    record with an open rejection (where it was listed), `REREAD_REJECTED` at most; 0 when none waits. Read from
    the resource's state when the source is made: dlt takes the incremental's `lag` before the resource runs."""
    state = _state_when_made(name)
    waiting, mark = Contract.waiting_since(state), incremental_mark(state, cursor_field)
    if waiting is None or mark is None:
        return 0.0
    return min((utc(mark) - waiting).total_seconds(), REREAD_REJECTED.total_seconds())


def _implausible_mark_reach_s(name: str, cursor_field: str, initial: datetime) -> float:
    """How far resource `name`'s high-water mark lies past the newest record loaded at a plausible time, when the
    mark itself is past now (plus clock skew); 0 when it is not. Read when the source is made, like
    `_rejected_reach_s`; the newest plausible record is read from the change filter's fingerprints."""
    state = _state_when_made(name)
    mark, horizon = incremental_mark(state, cursor_field), now_utc() + CLOCK_SKEW
    if mark is None or utc(mark) <= horizon:
        return 0.0
    newest = initial
    with _CLIENT_LOCK, contextlib.suppress(DltException), dlt.current.pipeline().sql_client() as sql:
        prints = sql.make_qualified_table_name(fingerprints_table(name))
        found = sql.execute_sql(f'select max("{cursor_field}") from {prints} where "{cursor_field}" <= %s', horizon)
        if found and found[0][0] is not None:
            newest = max(initial, utc(found[0][0]))
    return (utc(mark) - newest).total_seconds()
