"""The data contract of a table whose column types the vendor documents: a record that does not fit is set
aside in `rejected_records` with its raw value and the reason, instead of loading as NULL beside a
variant column (`amt__v_text`). dlt's `data_type: freeze` contract backs this up: a value that slipped
through would fail the load rather than change the table's shape.

Rejections are merged on (table, record id, column), so a re-run does not repeat them; when the vendor
later sends the record with a good value it loads, and its rejections are deleted (a hard delete), so the
table holds exactly the records still waiting for a good value.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, MutableMapping
from datetime import date, datetime
from typing import Any

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


def _number(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError("a boolean is not a number")
    number = float(value)  # ints, floats and numeric strings, as dlt would coerce them
    if not math.isfinite(number):
        raise ValueError("not a finite number")
    return number


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
        check = CHECKS.get(str(expected))
        if check is None:
            continue
        try:
            check(value)
        except (TypeError, ValueError) as exc:
            found.append({"column_name": prefix + name, "expected_type": expected,
                          "raw_value": json.dumps(value, default=str)[:1000],
                          "reason": f"cannot be read as {expected}: {exc}"})
    return found


class Contract:
    """Splits rows into those that fit the declared columns (and those of their nested lists) and rejections.

    `state` (the resource's dlt state) remembers which records have open rejections, so a record that later
    arrives with good values deletes them."""

    def __init__(self, table: str, primary_key: str, cursor: str, columns: Mapping[str, Mapping[str, Any]],
                 nested: Mapping[str, Mapping[str, Mapping[str, Any]]], state: MutableMapping[str, Any]) -> None:
        self.table, self.primary_key, self.cursor = table, primary_key, cursor
        required = {primary_key: {"nullable": False}, cursor: {"nullable": False}}
        self.columns = {**columns, **{k: {**columns.get(k, {}), **v} for k, v in required.items()}}
        self.nested = nested
        self._open: dict[str, list[str]] = state.setdefault("rejected", {})

    def split(self, rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        good, rejects = [], []
        for row in rows:
            found = violations(row, self.columns)
            for key, columns in self.nested.items():
                for item in row.get(key) or []:
                    found += violations(item, columns, prefix=f"{key}.")
            record_id = str(row.get(self.primary_key))
            if found:
                rejects += self._rejections(record_id, row, found)
                continue
            good.append(row)
            rejects += [self._row(record_id, row, column, resolved=True) for column in self._open.pop(record_id, [])]
        return good, rejects

    def _row(self, record_id: str, row: Mapping[str, Any], column: str, **fields: Any) -> dict[str, Any]:
        """A row of `rejected_records`; it carries the record's cursor value, as every row of the resource must."""
        return {"table_name": self.table, "record_id": record_id, "column_name": column,
                self.cursor: row[self.cursor], **fields}

    def _rejections(self, record_id: str, row: Mapping[str, Any], found: list[dict[str, Any]]) -> list[dict[str, Any]]:
        columns = sorted({v["column_name"] for v in found})
        stale = [c for c in self._open.get(record_id, []) if c not in columns]
        self._open[record_id] = columns
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
