"""Push a destination's outboxes: diff each against the ledger, send what is new or changed, journal each
answer before the next request (folded into the ledger in batches). A row the vendor refuses (400, 404,
422) goes to the rejects table with the vendor's message and is tried again only when it changes; 429,
5xx and dropped connections are retried by the shared HTTP client; bad credentials (401/403) or a vendor
that stays down fail the destination, and what was already sent stays recorded."""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from destinations.common.journal import Journal
from destinations.common.ledger import SCHEMA, Ledger, content_hash
from destinations.common.spec import DestinationSpec, Skip
from dlt_adapter import signal_received
from vendor_http import RetryPolicy, VendorAuthError, VendorError
from warehouse import table_exists

REJECTED_STATUSES = frozenset({400, 404, 422})
# A push is hundreds of one-record calls: two 429 storms back to back must not fail a row (sources page).
PUSH_RETRY = RetryPolicy(attempts=12)
OUTBOX_SCHEMA = "outbox"
SAMPLE_SIZE = 3
log = logging.getLogger("destinations.push")


@dataclass
class DestinationResult:
    destination: str
    status: str  # "pushed", "failed", "interrupted" or "dry-run"
    seconds: float
    sent: int = 0
    unchanged: int = 0
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> rows
    rejected: int = 0  # rows the vendor refused (in reverse_etl.rejects), this run and still unchanged
    error: str | None = None
    sample: list[dict[str, Any]] = field(default_factory=list)  # --dry-run: what would be sent


def outbox_rows(con: duckdb.DuckDBPyConnection, model: str) -> list[dict[str, Any]]:
    cursor = con.execute(f"select * from {OUTBOX_SCHEMA}.{model} order by row_key")
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def push(spec: DestinationSpec, settings: dict[str, Any], con: duckdb.DuckDBPyConnection, journal_dir: Path,
         dry_run: bool = False) -> DestinationResult:
    started = time.monotonic()
    result = DestinationResult(spec.name, "dry-run" if dry_run else "pushed", 0.0)
    skipped: Counter[str] = Counter()
    ledger = Ledger(con, spec.name, Journal(journal_dir / f"{spec.name}.jsonl"))
    client = spec.client(settings)
    try:
        if not dry_run:
            ledger.ensure()
            ledger.fold()  # what a killed run journaled
        # a dry run writes nothing, not even the ledger's tables
        has_ledger = not dry_run or table_exists(con, SCHEMA, "ledger")
        for outbox in spec.outboxes:
            sent = ledger.sent(outbox.name, has_ledger)
            rejected = ledger.rejected(outbox.name, has_ledger)
            for row in outbox_rows(con, outbox.model):
                if signal_received():
                    result.status = "interrupted"
                    return result
                key = str(row["row_key"])
                if row.get("skip_reason"):
                    skipped[f"{outbox.name}: {row['skip_reason']}"] += 1
                    continue
                payload = client.payload(outbox, row)
                if isinstance(payload, Skip):
                    skipped[f"{outbox.name}: {payload}"] += 1
                    continue
                digest = content_hash(payload)
                previous = sent.get(key)
                if previous and (outbox.append_only or previous.content_hash == digest):
                    result.unchanged += 1
                    continue
                if rejected.get(key) == digest:  # refused before and unchanged since: not tried again
                    result.rejected += 1
                    continue
                if dry_run:
                    result.sent += 1
                    if len(result.sample) < SAMPLE_SIZE:
                        result.sample.append({"object": outbox.name, "row_key": key, **payload})
                    continue
                try:
                    response = client.send(outbox, payload, previous.payload if previous else None)
                except VendorAuthError:
                    raise
                except VendorError as exc:
                    if exc.status not in REJECTED_STATUSES:
                        raise
                    ledger.record_rejected(outbox.name, key, digest, exc.status, str(exc))
                    result.rejected += 1
                    continue
                ledger.record_sent(outbox.name, key, digest, payload, response)
                result.sent += 1
                ledger.fold_if_due()
    except VendorError as exc:
        result.status, result.error = "failed", str(exc)
        log.error("%s failed: %s", spec.name, exc)
    finally:
        client.close()
        if not dry_run:
            ledger.fold()  # what was sent stays recorded, whatever stopped the push
        result.skipped = dict(sorted(skipped.items()))
        result.seconds = time.monotonic() - started
    return result

