"""Reading ahead on a thread: the next item is produced while the consumer works on this one, within a bound,
with the producer's errors raised to the consumer and its iterator closed when the consumer stops."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from sources.common.prefetch import prefetched

pytestmark = pytest.mark.fast


class Source:
    """Numbers 0..n-1, recording how many were produced, whether it was closed, and on which thread it ran."""

    def __init__(self, n: int, fail_at: int | None = None) -> None:
        self.n, self.fail_at = n, fail_at
        self.produced, self.closed, self.threads = 0, False, set()
        self.made = {i: threading.Event() for i in range(n)}

    def __iter__(self) -> Iterator[int]:
        try:
            for i in range(self.n):
                self.threads.add(threading.get_ident())
                if i == self.fail_at:
                    raise ValueError(f"bad item {i}")
                self.produced += 1
                self.made[i].set()
                yield i
        finally:
            self.closed = True


def test_the_next_item_is_produced_while_the_consumer_holds_this_one():
    source = Source(5)
    items = prefetched(iter(source), depth=2)
    assert next(items) == 0
    # Without reading ahead, item 1 would be produced only when asked for.
    assert source.made[1].wait(timeout=10), "item 1 was not produced while item 0 was held"
    assert list(items) == [1, 2, 3, 4]
    assert threading.get_ident() not in source.threads


def test_the_read_ahead_stops_at_its_depth():
    source = Source(50)
    items = prefetched(iter(source), depth=3)
    assert next(items) == 0
    source.made[4].wait(timeout=10)
    # item 0 in hand, three waiting, one more produced and waiting for room: never further
    assert not source.made[5].wait(timeout=0.3)
    assert source.produced == 5
    assert list(items) == list(range(1, 50))


def test_an_error_of_the_producer_reaches_the_consumer_after_the_items_before_it():
    source = Source(5, fail_at=3)
    items = prefetched(iter(source), depth=2)
    got = []
    with pytest.raises(ValueError, match="bad item 3"):
        for item in items:
            got.append(item)
    assert got == [0, 1, 2]


def test_a_consumer_that_stops_early_stops_the_producer_and_closes_its_iterator():
    source = Source(1000)
    items = prefetched(iter(source), depth=2)
    assert next(items) == 0
    source.made[2].wait(timeout=10)
    items.close()
    assert source.closed  # closed before close() returned, on the consumer's side
    produced = source.produced
    assert produced <= 4
    assert not source.made[produced].wait(timeout=0.3)  # nothing more is produced
