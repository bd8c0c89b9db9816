"""Time windows and change detection for sources that re-read a lookback period.

Vendors without an update timestamp (ClickMagick, Integr8 conversions) restate records in place: a
sale gets refunded, a conversion gets approved. We re-read a lookback window each run and pass on
only records whose content changed since the last successful load, so a re-run loads nothing and
an advance loads only what is new or different. The fingerprints live in dlt resource state, which
is committed together with the load: a failed run leaves them, and the data, as they were.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, MutableMapping
from datetime import datetime, timedelta
from typing import Any

import dlt
import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from sources.common.contract import FROZEN_TYPES, REJECTS_COLUMNS, REJECTS_KEY, REJECTS_TABLE, Contract
from sources.common.times import now_utc, utc

# times re-exported
__all__ = ["ChangeFilter", "dimension", "lookback_resource", "now_utc", "read_from", "utc", "windows"]


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


class ChangeFilter:
    """Remembers a fingerprint per record id (with its cursor time) in a dlt state mapping.

    `changed` serves JSON records one at a time; `changed_rows` serves Arrow tables whole, hashing rows
    in DuckDB and comparing with an anti-join, so a million-row export costs no per-row Python.
    """

    def __init__(self, state: MutableMapping[str, Any], key: str = "fingerprints") -> None:
        self._seen: dict[str, list[Any]] = state.setdefault(key, {})
        self._known: pa.Table | None = None  # the state as Arrow, built once per run
        self._pending: list[pa.Table] = []  # fingerprints of rows passed on, folded in by forget_before

    def changed(self, record_id: str | int, record: Any, cursor: datetime) -> bool:
        key = str(record_id)
        value = fingerprint(record)
        previous = self._seen.get(key)
        if previous is not None and previous[0] == value:
            return False
        self._seen[key] = [value, int(cursor.timestamp())]
        return True

    def changed_rows(self, table: pa.Table, key: str, cursor: str) -> pa.Table:
        """The rows of `table` that are new or differ from what was last loaded."""
        if table.num_rows == 0:
            return table
        con = duckdb.connect()
        con.register("incoming", table)
        prints = con.sql(
            f'select "{key}"::varchar as id, hex(hash(incoming)) as fp, epoch("{cursor}")::bigint as at, '
            "row_number() over () - 1 as pos from incoming"
        ).to_arrow_table()
        if self._seen:
            if self._known is None:
                self._known = pa.table({"id": list(self._seen), "fp": [v[0] for v in self._seen.values()]})
            con.register("known", self._known)
            con.register("prints", prints)
            prints = con.sql("select p.* from prints p anti join known k on p.id = k.id and p.fp = k.fp "
                             "order by p.pos").to_arrow_table()
        self._pending.append(prints.select(["id", "fp", "at"]))
        return table.take(prints.column("pos"))

    def forget_before(self, cutoff: datetime) -> None:
        """Fold in this run's fingerprints and drop those older than any window we will read again."""
        limit = int(cutoff.timestamp())
        for batch in self._pending:
            recent = batch.filter(pc.greater_equal(batch.column("at"), limit))
            for record_id, value, at in zip(*(recent.column(c).to_pylist() for c in ("id", "fp", "at")),
                                            strict=True):
                self._seen[record_id] = [value, at]
        self._pending.clear()
        self._known = None
        for key in [k for k, (_, at) in self._seen.items() if at < limit]:
            del self._seen[key]

    def __len__(self) -> int:
        return len(self._seen)


Batch = list[dict[str, Any]] | pa.Table
RangeReader = Callable[[datetime, datetime], Iterable[Batch]]


def with_rejects_table(resource: Any) -> Any:
    """Give `resource` a `rejected_records` table variant with its own columns and key: a variant starts as a
    copy of the resource's hints, so its columns are emptied first (see sources.common.contract)."""
    resource.apply_hints(table_name=REJECTS_TABLE, columns={}, create_table_variant=True)
    resource.apply_hints(table_name=REJECTS_TABLE, write_disposition="merge", primary_key=REJECTS_KEY,
                         columns=REJECTS_COLUMNS, create_table_variant=True)
    return resource


def lookback_resource(name: str, *, primary_key: str, cursor_field: str, read: RangeReader, initial: datetime,
                      lookback: timedelta, stop: datetime | None = None, backfill: datetime | None = None,
                      **hints: Any) -> Any:
    """A merge resource that re-reads `lookback` before its high-water mark and passes on only changes.

    `read(begin, end)` is the vendor's part: its paging and row shaping, yielding batches (lists of dict
    rows, or Arrow tables) of the records in [begin, end). Everything else is here: where the read starts
    (backfill, else the cursor less the lookback, applied by dlt as `lag`), the change filter whose
    fingerprints live in resource state (committed with the load), forgetting fingerprints no later run
    re-reads, materializing the table before its first record, and the data contract of declared `columns`
    (and `nested_hints`) for JSON rows: what does not fit goes to `rejected_records`. A backfill passes every
    record on.
    """

    lag_s = lookback.total_seconds()
    if backfill is not None:  # dlt filters rows before its start (the mark less `lag`): reach back to the backfill
        lag_s = max(lag_s, (now_utc() - backfill).total_seconds())
    declared = {k: v for k, v in (hints.get("columns") or {}).items() if isinstance(v, dict)}
    nested = {key: dict(nested_hint.get("columns") or {})
              for key, nested_hint in (hints.get("nested_hints") or {}).items()}
    if declared:  # documented types are fixed: what does not fit is rejected, never a variant column
        hints.setdefault("schema_contract", FROZEN_TYPES)

    @dlt.resource(name=name, primary_key=primary_key, write_disposition="merge", **hints)
    def resource(
        cursor: dlt.sources.incremental[Any] = dlt.sources.incremental(cursor_field, initial_value=initial, lag=lag_s),
    ) -> Iterator[Any]:
        begin = read_from(cursor.start_value, initial, backfill)
        state = dlt.current.resource_state()
        seen = ChangeFilter(state)
        seen.forget_before(begin)
        contract = Contract(name, primary_key, cursor_field, declared, nested, state) if declared else None
        yield dlt.mark.materialize_table_schema()  # the table exists even before its first record
        if contract:
            yield dlt.mark.with_table_name(dlt.mark.materialize_table_schema(), REJECTS_TABLE)
        for batch in read(begin, stop or now_utc()):
            # The filter runs on a backfill too, so its fingerprints describe what was loaded.
            if isinstance(batch, pa.Table):
                changed: Batch = seen.changed_rows(batch, primary_key, cursor_field)
            else:
                changed = [row for row in batch if seen.changed(row[primary_key], row, row[cursor_field])]
            passed = batch if backfill else changed
            if contract and isinstance(passed, list):
                passed, rejected = contract.split(passed)
                if rejected:
                    yield dlt.mark.with_table_name(rejected, REJECTS_TABLE)
            if len(passed):
                yield passed
        seen.forget_before(begin)  # folds in this run's Arrow fingerprints

    return with_rejects_table(resource) if declared else resource
