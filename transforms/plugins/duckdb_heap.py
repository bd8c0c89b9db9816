"""dbt-duckdb plugin (transforms/profiles.yml): the C heap trimmed each time dbt is about to open the warehouse.

Where dbt opens the file anew for each node (`keep_open` off: Warehouse.dbt_keep_open), the node before has closed
its DuckDB, and what that DuckDB allocated outside its buffer pool, through glibc (each table's version info, ~32 KB
per 2,048-row vector holding a deleted row, which a checkpoint reads for every table), is freed but stays resident:
glibc keeps freed chunks in the middle of its heap for reuse, while the next node's DuckDB allocates its buffer
pool elsewhere (jemalloc). At scale 1350 a node after another so carried ~0.45 GiB (a diffed table after a table:
1,312 MiB against 853 with those chunks returned). malloc_trim(0) returns them; its cost is a walk of the heap.
It imports nothing of the repo: dbt loads it in every build, and the packages' own imports (dlt) would add ~90 MiB
and 0.5 s to each dbt process (pipelines/heap.py trims the runner's heap the same way)."""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin
from dbt_common.events.base_types import EventLevel
from dbt_common.events.functions import fire_event
from dbt_common.events.types import Note


@functools.cache
def _malloc_trim() -> Any:
    library = ctypes.util.find_library("c")
    return getattr(ctypes.CDLL(library), "malloc_trim", None) if library else None  # glibc only


def _resident_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class Plugin(BasePlugin):
    def update_connection_config(self, creds: Any, config: dict[str, Any]) -> None:
        """Called before each DuckDB connect of the profile."""
        trim = _malloc_trim()
        if trim is None:
            return
        before = _resident_mib()
        trim(0)
        after = _resident_mib()
        fire_event(Note(msg=f"C heap trimmed before opening the warehouse: {before - after:.0f} MiB returned, "
                            f"{after:.0f} MiB resident"), level=EventLevel.DEBUG)
