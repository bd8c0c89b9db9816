"""Freed memory handed back to the operating system between a run's steps, and by Arrow within the extract.

CPython's allocator (glibc malloc) and Arrow's default pool (mimalloc) keep what a step freed for reuse: after an
Integr8 export or a ClickMagick extract, the process would carry hundreds of MB it no longer uses into
the loads and the dbt build, and a run's peak would be the sum of its steps instead of the largest.
A small process skips it: a full collection walks every object the imports left (~100k, 0.1-0.2 s of CPU),
six to nine times a run, to return a few MB.

Within a step Arrow's pool decides: mimalloc (pyarrow's default) keeps the pages of freed batches for reuse, so
an extract that streams exports batch by batch held far more than its live batches (Integr8 alone at scale 1350:
1.57-1.63 GiB resident for at most ~0.5 GiB of live Arrow memory); with jemalloc handing pages back as they are
freed, 1.33-1.50 GiB in three runs. Its price: ~0.5 s of the million-row export's ~8 s through the source
(`--only export`, measured quiet: 1.64x against 1.50x with mimalloc)."""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc
import os

import pyarrow as pa


@functools.cache
def _malloc_trim() -> object | None:
    library = ctypes.util.find_library("c")
    return getattr(ctypes.CDLL(library), "malloc_trim", None) if library else None  # glibc only


# Below this the process holds too little for a release to matter against a peak of 2 GB.
RELEASE_ABOVE_BYTES = 512 * 2**20


def return_arrow_memory_promptly() -> str:
    """Arrow allocates from jemalloc, which returns freed pages to the system at once (decay 0), where pyarrow
    has it (its Linux wheels); otherwise its default pool stays. The pool's name. Set before a step that
    streams Arrow batches (each vendor's extract: pipelines.run.extract, the runner's and Dagster's)."""
    try:
        pool = pa.jemalloc_memory_pool()
    except NotImplementedError:  # a pyarrow built without jemalloc
        return pa.default_memory_pool().backend_name
    pa.jemalloc_set_decay_ms(0)
    pa.set_memory_pool(pool)
    return pool.backend_name


def resident_bytes() -> int | None:
    """This process's resident memory, where Linux tells it."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def release_memory(above: int = RELEASE_ABOVE_BYTES) -> bool:
    """Collect garbage, then have Arrow's pool and the C heap return their free pages, when the process holds
    more than `above` bytes (or cannot tell). Whether it did."""
    resident = resident_bytes()
    if resident is not None and resident < above:
        return False
    gc.collect()
    pa.default_memory_pool().release_unused()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)  # type: ignore[operator]
    return True
