"""The data contract of a table whose column types the vendor documents: a record that does not fit is set
aside in `rejected_records` with its raw value and the reason, instead of loading as NULL beside a
variant column (`amt__v_text`). dlt's `data_type: freeze` contract backs this up: a value that slipped
through would fail the load rather than change the table's shape.

Rejections are merged on (table, record id, column), so a re-run does not repeat them; when the vendor
later sends the record with a good value it loads, and its rejections are deleted (a hard delete), so the
table holds exactly the records still waiting for a good value.

The cursor (the time a listing is read by) is checked against the window the run read: a value after it (a
vendor that sends 2099) would become the high-water mark and hide every later record, and one before it (1900)
would be dropped unseen by dlt's incremental filter. Such a record is rejected too, and everything written for
it (its rejection, its fingerprint) carries the window's start as cursor instead, so nothing moves the mark
past what was read. The resource state remembers where each record with an open rejection was listed; the next
run reads from there (`waiting_since`, bounded), so the record loads as soon as the vendor sends it fixed.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, MutableMapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from sources.common.times import now_utc, utc

REJECTS_TABLE = "rejected_records"
REJECTS_KEY = ["table_name", "record_id", "column_name"]
REJECTS_COLUMNS: dict[str, dict[str, Any]] = {
    "table_name": {"data_type": "text", "nullable": False},
    "record_id": {"data_type": "text", "nullable": False},
    "column_name": {"data_type": "text", "nullable": False},
    "expected_type": {"data_type": "text"},
    "raw_value": {"data_type": "text"},
    "reason": {"data_type": "text"},
    "rejected_at": {"data_type": "timestamp"},
    "resolved": {"data_type": "bool", "hard_delete": True},
}
# The table's hints, for its own resource and for the variant of each resource that writes to it.
REJECTS_HINTS: dict[str, Any] = {"write_disposition": "merge", "primary_key": REJECTS_KEY, "columns": REJECTS_COLUMNS}
FROZEN_TYPES = {"tables": "evolve", "columns": "evolve", "data_type": "freeze"}
CLOCK_SKEW = timedelta(hours=1)  # a vendor's clock this far ahead of ours is not an error
# A column hint: the column holds money. Past AMOUNT_LIMIT an amount is a vendor's error (1e15 IDR is $60M for one
# order), not a sale: loaded, one such value made every sum it joined infinite, build after build.
AMOUNT = "x-amount"
AMOUNT_LIMIT = 1e15


def _number(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError("a boolean is not a number")
    number = float(value)  # ints, floats and numeric strings, as dlt would coerce them
    if not math.isfinite(number):
        raise ValueError("not a finite number")
    return number


def _amount(value: Any) -> None:
    if abs(_number(value)) >= AMOUNT_LIMIT:
        raise ValueError(f"an amount past ±{AMOUNT_LIMIT:.0e}: no order reaches it, a double would lose its cents "
                         f"and a sum of such amounts its meaning")


def _integer(value: Any) -> None:
    if not _number(value).is_integer():
        raise ValueError("not a whole number")


def _boolean(value: Any) -> None:
    if not isinstance(value, bool) and str(value).lower() not in ("true", "false"):
        raise ValueError("not true or false")


def _timestamp(value: Any) -> None:
    if isinstance(value, (datetime, date)):
        return
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return  # epoch seconds
    utc(str(value))


def _text(value: Any) -> None:
    if isinstance(value, (dict, list)):
        raise ValueError("a structure where text is expected")


CHECKS = {"bigint": _integer, "double": _number, "decimal": _number, "bool": _boolean, "timestamp": _timestamp,
          "date": _timestamp, "text": _text}


def violations(row: Mapping[str, Any], columns: Mapping[str, Mapping[str, Any]],
               prefix: str = "") -> list[dict[str, Any]]:
    """Each declared column whose value this row cannot be loaded as: column, expected type, raw value, reason."""
    found = []
    for name, hint in columns.items():
        value, expected = row.get(name), hint.get("data_type")
        if value is None:
            if hint.get("nullable") is False:
                found.append({"column_name": prefix + name, "expected_type": expected, "raw_value": None,
                              "reason": "missing a required value"})
            continue
        check = _amount if hint.get(AMOUNT) else CHECKS.get(str(expected))
        if check is None:
            continue
        try:
            check(value)
        except (TypeError, ValueError) as exc:
            found.append({"column_name": prefix + name, "expected_type": expected,
                          "raw_value": json.dumps(value, default=str)[:1000],
                          "reason": f"cannot be read as {expected}: {exc}"})
    return found


def as_moment(value: Any) -> datetime | None:
    """A cursor value as an aware UTC datetime (ISO text, a datetime or date, epoch seconds); None if it is none."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    try:
        return utc(value)
    except (TypeError, ValueError, AttributeError, OverflowError):
        return None


def moment_or_raw(value: Any) -> Any:
    """A vendor's time as an aware UTC datetime; a value that is none, or no time, as it came: the contract then
    rejects the record with its raw value, where parsing it in the row shaping stopped the whole vendor."""
    return as_moment(value) or value


class Contract:
    """Splits rows into those that fit the declared columns (and those of their nested lists) and rejections.

    `cursor_range` is where a record's cursor may lie: the window the run reads, to its end plus `CLOCK_SKEW`.
    `state` (the resource's dlt state) remembers which records have open rejections and where they were listed,
    so a record that later arrives with good values deletes them, and the next run reads from there."""

    def __init__(self, table: str, primary_key: str, cursor: str, columns: Mapping[str, Mapping[str, Any]],
                 nested: Mapping[str, Mapping[str, Mapping[str, Any]]], state: MutableMapping[str, Any],
                 cursor_range: tuple[datetime, datetime] | None = None) -> None:
        self.table, self.primary_key, self.cursor = table, primary_key, cursor
        required = {primary_key: {"nullable": False}, cursor: {"nullable": False}}
        self.columns = {**columns, **{k: {**columns.get(k, {}), **v} for k, v in required.items()}}
        self.nested = nested
        self.cursor_range = cursor_range
        # record id -> {"columns": [...], "at": where it was listed}; a list of columns in states written before
        self._open: dict[str, Any] = state.setdefault("rejected", {})
        self.misplaced: set[str] = set()  # ids of the last split's records rejected for their cursor

    @staticmethod
    def waiting_since(state: Mapping[str, Any]) -> datetime | None:
        """Where the earliest record with an open rejection was listed (None: none, or none recorded)."""
        listed = [as_moment(entry.get("at")) for entry in (state.get("rejected") or {}).values()
                  if isinstance(entry, dict)]
        return min((moment for moment in listed if moment is not None), default=None)

    def split(self, rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        good, rejects = [], []
        self.misplaced = set()
        for row in rows:
            found = violations(row, self.columns) + self._cursor_violations(row)
            for key, columns in self.nested.items():
                for item in row.get(key) or []:
                    found += violations(item, columns, prefix=f"{key}.")
            record_id = str(row.get(self.primary_key))
            if found:
                rejects += self._rejections(record_id, row, found)
                continue
            good.append(row)
            rejects += [self._row(record_id, row, column, resolved=True)
                        for column in _columns(self._open.pop(record_id, []))]
        return good, rejects

    def split_table(self, table: pa.Table) -> tuple[pa.Table, list[dict[str, Any]]]:
        """`split` for an Arrow batch, whose values are typed already: only the cursor (present, and within
        `cursor_range`) and amounts are checked."""
        rejects: list[dict[str, Any]] = []
        self.misplaced = set()
        amounts = {name: hint for name, hint in self.columns.items() if hint.get(AMOUNT) and name in table.column_names}
        cursor = {self.cursor: self.columns[self.cursor]}
        if table.num_rows:
            column = table[self.cursor]
            bad = pc.is_null(column)  # no time at all: dlt's incremental would stop the whole vendor on it
            if self.cursor_range is not None:
                lo, hi = (pa.scalar(bound, type=table.schema.field(self.cursor).type) for bound in self.cursor_range)
                bad = pc.or_kleene(bad, pc.fill_null(pc.or_(pc.less(column, lo), pc.greater(column, hi)), False))
            for name in amounts:
                bad = pc.or_kleene(bad, pc.fill_null(pc.greater_equal(pc.abs(table[name]), AMOUNT_LIMIT), False))
            if pc.any(bad).as_py():
                for row in table.filter(bad).select([self.primary_key, self.cursor, *amounts]).to_pylist():
                    found = violations(row, cursor) + self._cursor_violations(row) + violations(row, amounts)
                    rejects += self._rejections(str(row[self.primary_key]), row, found)
                table = table.filter(pc.invert(bad))
        if self._open and table.num_rows:
            ids = pc.cast(table[self.primary_key], pa.string())
            back = table.filter(pc.is_in(ids, value_set=pa.array(list(self._open), pa.string())))
            for row in back.select([self.primary_key, self.cursor]).to_pylist():
                record_id = str(row[self.primary_key])
                rejects += [self._row(record_id, row, column, resolved=True)
                            for column in _columns(self._open.pop(record_id, []))]
        return table, rejects

    def _cursor_violations(self, row: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The cursor outside `cursor_range` (a value that is no time at all is a type violation already)."""
        moment = as_moment(row.get(self.cursor))
        if self.cursor_range is None or moment is None:
            return []
        lo, hi = self.cursor_range
        if lo <= moment <= hi:
            return []
        return [{"column_name": self.cursor, "expected_type": "timestamp",
                 "raw_value": json.dumps(row.get(self.cursor), default=str)[:1000],
                 "reason": f"outside the window read ({lo:%Y-%m-%dT%H:%M:%SZ} to {hi:%Y-%m-%dT%H:%M:%SZ}): as the "
                           f"high-water mark it would hide every later record; before the window it would be "
                           f"dropped unseen"}]

    def _position(self, row: Mapping[str, Any]) -> Any:
        """The cursor to write for the record: its own, or the window's start when it has no plausible one."""
        if self.cursor_range is None:
            return row[self.cursor]
        moment = as_moment(row.get(self.cursor))
        lo, hi = self.cursor_range
        return row[self.cursor] if moment is not None and lo <= moment <= hi else lo

    def _row(self, record_id: str, row: Mapping[str, Any], column: str, **fields: Any) -> dict[str, Any]:
        """A row of `rejected_records`; it carries the record's cursor value, as every row of the resource must."""
        return {"table_name": self.table, "record_id": record_id, "column_name": column,
                self.cursor: self._position(row), **fields}

    def _rejections(self, record_id: str, row: Mapping[str, Any], found: list[dict[str, Any]]) -> list[dict[str, Any]]:
        columns = sorted({v["column_name"] for v in found})
        stale = [c for c in _columns(self._open.get(record_id, [])) if c not in columns]
        position = self._position(row)
        if self.cursor in columns:
            self.misplaced.add(record_id)
        listed = as_moment(position)
        self._open[record_id] = {"columns": columns, **({"at": listed.isoformat()} if listed else {})}
        rejected_at = now_utc()
        first = {}
        for violation in found:  # one row per column: the first bad value of a nested list speaks for it
            first.setdefault(violation["column_name"], violation)
        return [
            *(self._row(record_id, row, v["column_name"], rejected_at=rejected_at, resolved=False,
                        expected_type=v["expected_type"], raw_value=v["raw_value"], reason=v["reason"])
              for v in first.values()),
            *(self._row(record_id, row, column, resolved=True) for column in stale),
        ]


def _columns(entry: Any) -> list[str]:
    """The columns of an open rejection's state entry (a bare list in states written before positions)."""
    return list(entry.get("columns", [])) if isinstance(entry, dict) else list(entry)
