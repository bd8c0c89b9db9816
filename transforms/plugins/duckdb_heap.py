"""dbt-duckdb plugin (transforms/profiles.yml): the C heap trimmed each time dbt is about to open the warehouse.

Where dbt opens the file anew for each node (`keep_open` off: Warehouse.dbt_keep_open), the node before has closed
its DuckDB, and what that DuckDB allocated outside its buffer pool, through glibc (each table's version info, ~32 KB
per 2,048-row vector holding a deleted row, which a checkpoint reads for every table), is freed but stays resident:
glibc keeps freed chunks in the middle of its heap for reuse, while the next node's DuckDB allocates its buffer
pool elsewhere (jemalloc). At scale 1350 a node after another so carried ~0.45 GiB (a diffed table after a table:
1,312 MiB against 853 with those chunks returned). malloc_trim(0) returns them; its cost is a walk of the heap."""

from __future__ import annotations

from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin
from dbt_common.events.base_types import EventLevel
from dbt_common.events.functions import fire_event
from dbt_common.events.types import Note

from pipelines.heap import resident_bytes, trim_c_heap


class Plugin(BasePlugin):
    def update_connection_config(self, creds: Any, config: dict[str, Any]) -> None:
        """Called before each DuckDB connect of the profile."""
        before = resident_bytes()
        if trim_c_heap() and before is not None:
            after = resident_bytes() or before
            fire_event(Note(msg=f"C heap trimmed before opening the warehouse: {(before - after) / 2**20:.0f} MiB "
                                f"returned, {after / 2**20:.0f} MiB resident"), level=EventLevel.DEBUG)
