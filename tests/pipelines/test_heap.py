"""Memory is handed back to the operating system between a run's steps only by a process holding enough for
it to matter: a full collection costs 0.1-0.2 s of CPU however little it returns."""

from __future__ import annotations

import gc

import pytest

from pipelines.heap import release_memory, resident_bytes

pytestmark = pytest.mark.fast


def test_memory_is_released_only_by_a_process_holding_enough_to_matter():
    resident = resident_bytes()
    assert resident is not None and resident > 0
    full_collections = gc.get_stats()[2]["collections"]
    assert release_memory(above=resident + 2**30) is False
    assert gc.get_stats()[2]["collections"] == full_collections
    assert release_memory(above=0) is True
    assert gc.get_stats()[2]["collections"] == full_collections + 1
