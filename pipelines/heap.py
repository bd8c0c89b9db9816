"""Freed memory handed back to the operating system between a run's steps.

CPython's allocator (glibc malloc) and Arrow's (mimalloc) keep what a step freed for reuse: after an
Integr8 export or a ClickMagick extract, the process would carry hundreds of MB it no longer uses into
the loads and the dbt build, and a run's peak would be the sum of its steps instead of the largest."""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc

import pyarrow as pa


@functools.cache
def _malloc_trim() -> object | None:
    library = ctypes.util.find_library("c")
    return getattr(ctypes.CDLL(library), "malloc_trim", None) if library else None  # glibc only


def release_memory() -> None:
    """Collect garbage, then have Arrow's pool and the C heap return their free pages."""
    gc.collect()
    pa.default_memory_pool().release_unused()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)  # type: ignore[operator]
