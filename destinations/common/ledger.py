"""The push ledger, in the warehouse (schema `reverse_etl`): what each destination holds, so a push sends
only new and changed rows (as Hightouch and Census diff against their sync state).

    ledger        destination, object, row_key, content_hash, payload, sent_at, response   every call sent
    rejects       destination, object, row_key, content_hash, status, message, rejected_at, outcome
                  every row not sent: `refused` (the vendor said no: tried again when the row changes),
                  `failed` (the vendor kept failing: tried again next run), `unknown` (an appending call
                  whose answer was lost: the vendor may hold it, so it is not sent again by itself)
    held          the latest ledger row per key: what the destination holds
    open_rejects  rows not sent and not sent since: waiting for the row to change, the next run, or a person

Each vendor answer is journaled (fsynced) before the next request and folded into these tables in batches
(`journal.py`), so at most one request per destination is ever in flight and unrecorded: a crash in that
window re-sends that one row on the next run. The diff reads the tables plus the journal not yet folded.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import duckdb
import pyarrow as pa

from destinations.common.journal import Journal

SCHEMA = "reverse_etl"
FOLD_EVERY_S = 5.0  # journal -> ledger; bounds what a run on another machine could re-send after a kill
STAMPED = {"ledger": "sent_at", "rejects": "rejected_at"}
COLUMNS = {
    "ledger": ["destination", "object", "row_key", "content_hash", "payload", "sent_at", "response"],
    "rejects": ["destination", "object", "row_key", "content_hash", "status", "message", "rejected_at", "outcome"],
}
REFUSED, FAILED, UNKNOWN = "refused", "failed", "unknown"  # why a row was not sent (rejects.outcome)
# Append-only: one insert per call (no delete, no scan), so recording costs the same at any size. The
# latest row per key is what the destination holds; a rejection counts until a later send of the key.
DDL = f"""
create schema if not exists {SCHEMA};
create table if not exists {SCHEMA}.ledger (
    destination varchar, object varchar, row_key varchar, content_hash varchar, payload json,
    sent_at timestamptz, response varchar);
create table if not exists {SCHEMA}.rejects (
    destination varchar, object varchar, row_key varchar, content_hash varchar, status integer,
    message varchar, rejected_at timestamptz, outcome varchar);
alter table {SCHEMA}.rejects add column if not exists outcome varchar;  -- ledgers from before: refusals only
create or replace view {SCHEMA}.held as
    select * from {SCHEMA}.ledger
    qualify row_number() over (partition by destination, object, row_key order by sent_at desc) = 1;
create or replace view {SCHEMA}.open_rejects as
    select r.* from {SCHEMA}.rejects as r
    left join {SCHEMA}.held as h using (destination, object, row_key)
    where h.sent_at is null or h.sent_at < r.rejected_at
    qualify row_number() over (partition by r.destination, r.object, r.row_key order by r.rejected_at desc) = 1;
"""


def content_hash(payload: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


@dataclass(frozen=True)
class Waiting:
    """A row not sent: its content then, and why (REFUSED, FAILED or UNKNOWN)."""

    content_hash: str
    outcome: str


@dataclass(frozen=True)
class Sent:
    content_hash: str
    payload_json: str  # parsed only when a re-send needs the previous payload (e.g. a segment move)

    @property
    def payload(self) -> dict[str, Any]:
        return json.loads(self.payload_json)


class Ledger:
    def __init__(self, con: duckdb.DuckDBPyConnection, destination: str, journal: Journal) -> None:
        self.con, self.destination, self.journal = con, destination, journal
        self._folded_at = time.monotonic()

    def ensure(self) -> None:
        self.con.execute(DDL)

    def sent(self, obj: str, in_warehouse: bool = True) -> dict[str, Sent]:
        held: dict[str, Sent] = {}
        if in_warehouse:
            rows = self.con.execute(f"select row_key, content_hash, payload from {SCHEMA}.held "
                                    "where destination = ? and object = ?", [self.destination, obj]).fetchall()
            held = {key: Sent(digest, payload) for key, digest, payload in rows}
        for record in self._pending(obj):  # newer than anything folded
            if record["table"] == "ledger":
                held[record["row_key"]] = Sent(record["content_hash"], json.dumps(record["payload"]))
        return held

    def rejected(self, obj: str, in_warehouse: bool = True) -> dict[str, Waiting]:
        waiting: dict[str, Waiting] = {}
        if in_warehouse:
            rows = self.con.execute(f"select row_key, content_hash, coalesce(outcome, '{REFUSED}') "
                                    f"from {SCHEMA}.open_rejects where destination = ? and object = ?",
                                    [self.destination, obj]).fetchall()
            waiting = {key: Waiting(digest, outcome) for key, digest, outcome in rows}
        for record in self._pending(obj):
            if record["table"] == "rejects":
                waiting[record["row_key"]] = Waiting(record["content_hash"], record.get("outcome") or REFUSED)
            else:
                waiting.pop(record["row_key"], None)
        return waiting

    def record_sent(self, obj: str, key: str, digest: str, payload: dict[str, Any], response: str) -> None:
        self._journal("ledger", obj, key, digest, payload=payload, response=response[:500])

    def record_rejected(self, obj: str, key: str, digest: str, status: int | None, message: str,
                        outcome: str = REFUSED) -> None:
        self._journal("rejects", obj, key, digest, status=status, message=message[:1000], outcome=outcome)

    def fold_if_due(self) -> None:
        if time.monotonic() - self._folded_at >= FOLD_EVERY_S:
            self.fold()

    def fold(self) -> None:
        """The journal into the tables in one transaction, then the journal emptied. Idempotent: a crash
        between the commit and the emptying folds the same lines again next time, and they are skipped."""
        self._folded_at = time.monotonic()
        records = self.journal.records()
        if not records:
            self.journal.clear()
            return
        self.con.execute("begin")
        try:
            for table, columns in COLUMNS.items():
                at = STAMPED[table]
                rows = [_row(record, columns, at) for record in records if record["table"] == table]
                if rows:
                    batch = pa.Table.from_pylist(rows)  # noqa: F841 - read by the query below
                    self.con.execute(
                        f"insert into {SCHEMA}.{table} by name select * from batch as b where not exists ("
                        f"select 1 from {SCHEMA}.{table} as t where t.destination = b.destination and "
                        f"t.object = b.object and t.row_key = b.row_key and t.{at} = b.{at})")
            self.con.execute("commit")
        except BaseException:
            self.con.execute("rollback")
            raise
        self.journal.clear()

    def _journal(self, table: str, obj: str, key: str, digest: str, **values: Any) -> None:
        self.journal.append({"table": table, "destination": self.destination, "object": obj, "row_key": key,
                             "content_hash": digest, STAMPED[table]: datetime.now(UTC).isoformat(), **values})

    def _pending(self, obj: str) -> list[dict[str, Any]]:
        return [r for r in self.journal.records() if r["destination"] == self.destination and r["object"] == obj]


def _row(record: dict[str, Any], columns: list[str], at: str) -> dict[str, Any]:
    row = {column: record.get(column) for column in columns}
    if "payload" in row:
        row["payload"] = json.dumps(row["payload"], sort_keys=True, default=str)
    row[at] = datetime.fromisoformat(row[at])
    return row
