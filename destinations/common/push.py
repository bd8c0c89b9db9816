"""Push a destination's outboxes: diff each against the ledger, send what is new or changed, journal each
answer before the next request (folded into the ledger in batches). One row never blocks the others:
- a row the vendor refuses (400, 404, 422) is parked in the rejects table with the vendor's message and tried
  again only when it changes;
- a row the vendor keeps failing (5xx or dropped connections past the client's few retries) is parked and
  tried again on the next run; `DOWN_AFTER` such rows in a row mean the vendor is down: the destination fails;
- a call that appends at the vendor (an outbox marked `append_only`) is never repeated after an answer that
  leaves open whether the vendor acted on it: the row is parked as `unknown` and not sent again by itself, so
  no vendor receives a payload twice without a kill.
429 and 503 are retried by the shared HTTP client; bad credentials (401/403) fail the destination; what was
already sent stays recorded."""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from destinations.common.journal import Journal
from destinations.common.ledger import FAILED, REFUSED, SCHEMA, UNKNOWN, Ledger, content_hash
from destinations.common.spec import DestinationSpec, Skip
from dlt_adapter import signal_received
from vendor_http import RetryPolicy, VendorAuthError, VendorError, VendorOutcomeUnknown
from warehouse import table_exists

REJECTED_STATUSES = frozenset({400, 404, 422})
# A push is hundreds of one-record calls: two 429 storms back to back must not fail a row (sources page), but
# a row the vendor fails on every time is parked after a few server errors, not two minutes of backoff.
PUSH_RETRY = RetryPolicy(attempts=12, max_server_errors=6)
DOWN_AFTER = 3  # rows in a row that the vendor kept failing: it is down, not the rows
OUTBOX_SCHEMA = "outbox"
SAMPLE_SIZE = 3
log = logging.getLogger("destinations.push")


@dataclass
class DestinationResult:
    destination: str
    status: str  # "pushed", "partial" (rows parked this run: failed or unknown), "failed", "interrupted", "dry-run"
    seconds: float
    sent: int = 0
    unchanged: int = 0
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> rows
    rejected: int = 0  # rows the vendor refused (in reverse_etl.rejects), this run and still unchanged
    failed: int = 0  # rows the vendor kept failing on this run: parked, tried again next run
    uncertain: int = 0  # appended rows whose answer was lost (this run and earlier): not sent again by themselves
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
        failing = 0  # rows in a row the vendor failed on
        lost_answers = 0  # rows parked as unknown this run
        for outbox in spec.outboxes:
            sent = ledger.sent(outbox.name, has_ledger)
            parked = ledger.rejected(outbox.name, has_ledger)
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
                waiting = parked.get(key)
                if waiting and waiting.outcome == UNKNOWN:  # the vendor may hold it: a person decides
                    result.uncertain += 1
                    continue
                if waiting and waiting.outcome == REFUSED and waiting.content_hash == digest:  # unchanged since
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
                except VendorOutcomeUnknown as exc:
                    ledger.record_rejected(outbox.name, key, digest, exc.status, str(exc), UNKNOWN)
                    result.uncertain += 1
                    lost_answers += 1
                    failing = 0  # the vendor answered
                    continue
                except VendorError as exc:
                    if exc.status in REJECTED_STATUSES:
                        ledger.record_rejected(outbox.name, key, digest, exc.status, str(exc), REFUSED)
                        result.rejected += 1
                        failing = 0
                        continue
                    if exc.status is not None and exc.status < 500:  # e.g. a Retry-After past what we wait
                        raise
                    ledger.record_rejected(outbox.name, key, digest, exc.status, str(exc), FAILED)
                    result.failed += 1
                    failing += 1
                    if failing >= DOWN_AFTER:
                        raise VendorError(spec.name, exc.endpoint, f"{failing} rows in a row failed, the vendor "
                                          f"looks down; the last: {exc}", exc.status) from exc
                    continue
                ledger.record_sent(outbox.name, key, digest, payload, response)
                result.sent += 1
                failing = 0
                ledger.fold_if_due()
        if result.failed or lost_answers:
            result.status = "partial"
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

