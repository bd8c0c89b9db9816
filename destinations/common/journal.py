"""A destination's push journal: one JSON line per vendor answer, written before the next request.

The ledger lives in the warehouse, where a commit per call costs milliseconds (a WAL fsync in a file, a
catalog transaction and a Parquet file in a DuckLake). The journal is the record between folds
(`Ledger.fold`), so the ledger receives the calls in a few batched inserts:

- each answer's line is written (to the OS) before the next request is sent: a killed process leaves
  exactly one request unrecorded, the one in flight;
- its fsync runs while the next request is in flight and is waited for before the one after: a machine
  that loses power leaves at most two unrecorded. Syncing in line costs as much as a third of the
  push's time on these machines (0.2-0.5 ms per call against about 2.5 ms per call).

It lives in this machine's working directory for the warehouse (next to dlt's state), so a journal left
by a killed run is folded by the next run on the same machine; a run on another machine against a shared
DuckLake sees what was folded before the kill (at most `FOLD_EVERY_S` of calls earlier).
"""

from __future__ import annotations

import json
import os
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any


class Journal:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: Any = None
        self._syncer: ThreadPoolExecutor | None = None
        self._syncing: Future[None] | None = None

    def append(self, record: dict[str, Any]) -> None:
        if self._file is None:
            self._open()
        self._wait_for_sync()
        self._file.write(json.dumps(record, sort_keys=True, default=str) + "\n")
        self._file.flush()
        assert self._syncer is not None
        self._syncing = self._syncer.submit(os.fsync, self._file.fileno())

    def records(self) -> list[dict[str, Any]]:
        """Every complete line; a torn line (killed mid-write) is the in-flight call, never recorded."""
        if not self.path.exists():
            return []
        records = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        return records

    def clear(self) -> None:
        self.close()
        self.path.unlink(missing_ok=True)

    def close(self) -> None:
        if self._file is not None:
            self._wait_for_sync()
            self._file.close()
            self._file = None
        if self._syncer is not None:
            self._syncer.shutdown()
            self._syncer = None

    def _open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        torn = self.path.exists() and self.path.stat().st_size and not self.path.read_bytes().endswith(b"\n")
        self._file = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - kept open across calls
        if torn:  # a killed run's half line must not swallow the next record
            self._file.write("\n")
        self._syncer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="journal-fsync")

    def _wait_for_sync(self) -> None:
        if self._syncing is not None:
            self._syncing.result()
            self._syncing = None
