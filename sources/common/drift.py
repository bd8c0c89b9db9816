"""Schema drift: a documented field the vendor stops sending, or a field it starts sending that its documentation
does not have. Both are recorded in the source's `schema_drift` table, one row per table, column and change,
while the drift lasts: added when a run first sees it, deleted (a hard delete) by the first run that reads the
table's records again without it. The runner's summary and dbt's `data_quality` show what is open.

A field left out is not a field set to null: a record re-read without it keeps the value the warehouse holds
(sources.common.incremental carries it forward), so a vendor that drops `cogs` from its answers does not wipe
the costs already loaded. A new record without it loads null, and the drift row says why.

Rows built from JSON keep a field the vendor left out out of the row (never `row.get(field)`), so absence and an
explicit null stay apart. Arrow batches leave such a column out of the table, and name the undocumented fields
they dropped in their schema's metadata (`UNDOCUMENTED_METADATA`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, MutableMapping
from typing import Any

import pyarrow as pa

from sources.common.times import now_utc

DRIFT_TABLE = "schema_drift"
DRIFT_KEY = ["table_name", "column_name", "change"]
MISSING, UNDOCUMENTED = "missing", "undocumented"
DRIFT_COLUMNS: dict[str, dict[str, Any]] = {
    "table_name": {"data_type": "text", "nullable": False},
    "column_name": {"data_type": "text", "nullable": False},
    "change": {"data_type": "text", "nullable": False},  # MISSING or UNDOCUMENTED
    "records": {"data_type": "bigint"},  # records showing it in the run that first saw it
    "example_record_id": {"data_type": "text"},
    "first_seen_at": {"data_type": "timestamp"},
    "resolved": {"data_type": "bool", "hard_delete": True},
}
DRIFT_HINTS: dict[str, Any] = {"write_disposition": "merge", "primary_key": DRIFT_KEY, "columns": DRIFT_COLUMNS}
UNDOCUMENTED_METADATA = b"undocumented_fields"  # an Arrow batch's JSON list of the fields its reader dropped


def with_undocumented(table: pa.Table, fields: Iterable[str]) -> pa.Table:
    """`table` noting in its schema's metadata the undocumented `fields` its reader left out."""
    fields = sorted(set(fields))
    if not fields:
        return table
    return table.replace_schema_metadata({**(table.schema.metadata or {}),
                                          UNDOCUMENTED_METADATA: json.dumps(fields).encode()})


def undocumented_in(table: pa.Table) -> list[str]:
    return json.loads((table.schema.metadata or {}).get(UNDOCUMENTED_METADATA, b"[]"))


class Drift:
    """What one run's records of `table` say about its documented columns: `observe` each batch as read (before
    any change filter: drift is a property of what the vendor sends, not of what changed), then `rows()` once
    at the end gives the `schema_drift` rows to load. `state` (the resource's) remembers what is open."""

    def __init__(self, table: str, key: str, documented: Iterable[str], nested: Iterable[str],
                 state: MutableMapping[str, Any]) -> None:
        self.table, self.key = table, key
        self.documented = frozenset(documented)
        self.known = self.documented | frozenset(nested)
        self._open: dict[str, Any] = state.setdefault("drift", {})  # "change:column" -> when first seen
        self._seen: dict[tuple[str, str], list[Any]] = {}  # (change, column) -> [records, an example id]
        self.records = 0

    def observe(self, batch: list[dict[str, Any]] | pa.Table) -> set[str]:
        """Note the drift in `batch`; the documented columns some of its records left out."""
        if isinstance(batch, pa.Table):
            self.records += batch.num_rows
            if not batch.num_rows:
                return set()
            example = batch[self.key][0].as_py()
            missing = self.documented - set(batch.column_names)
            for change, columns in ((MISSING, missing), (UNDOCUMENTED, undocumented_in(batch))):
                for column in columns:
                    self._note(change, column, batch.num_rows, example)
            return set(missing)
        self.records += len(batch)
        missing_here: set[str] = set()
        for row in batch:
            fields = row.keys()
            missing, extra = self.documented - fields, fields - self.known
            if missing or extra:
                missing_here |= missing
                for change, columns in ((MISSING, missing), (UNDOCUMENTED, extra)):
                    for column in columns:
                        self._note(change, column, 1, row.get(self.key))
        return missing_here

    def _note(self, change: str, column: str, records: int, example: Any) -> None:
        seen = self._seen.setdefault((change, column), [0, None if example is None else str(example)])
        seen[0] += records

    def rows(self, cursor: str, position: Any) -> list[dict[str, Any]]:
        """`schema_drift` rows for what this run saw first and what it no longer saw; each carries `position` as
        its cursor value (the start of the window read: it moves no high-water mark)."""
        out = []
        now = now_utc()
        for (change, column), (records, example) in sorted(self._seen.items()):
            if f"{change}:{column}" in self._open:
                continue
            self._open[f"{change}:{column}"] = now.isoformat()
            out.append({"table_name": self.table, "column_name": column, "change": change, "records": records,
                        "example_record_id": example, "first_seen_at": now, "resolved": False, cursor: position})
        if self.records:  # a run that read nothing cannot tell a drift is over
            for entry in sorted(set(self._open) - {f"{change}:{column}" for change, column in self._seen}):
                change, column = entry.split(":", 1)
                del self._open[entry]
                out.append({"table_name": self.table, "column_name": column, "change": change, "resolved": True,
                            cursor: position})
        return out
