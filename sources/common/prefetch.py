"""Items read ahead on a thread of their own, so that producing the next overlaps with consuming this one.

Worth it where both sides spend their time outside the GIL: Arrow parsing CSV on one side, dlt writing Parquet on
the other. The read-ahead is bounded (`depth` items), the producer's errors reach the consumer as they were raised,
and a consumer that stops early stops the producer and closes its iterator before it returns.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import TypeVar

T = TypeVar("T")

_ITEM, _END, _ERROR = "item", "end", "error"
_POLL_S = 0.05  # how often a producer waiting for room checks whether the consumer stopped


def prefetched(items: Iterator[T], depth: int) -> Iterator[T]:
    """`items` in order, at most `depth` of them produced ahead of the consumer on a daemon thread."""
    ready: queue.Queue[tuple[str, object]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def offer(message: tuple[str, object]) -> bool:
        while not stop.is_set():
            try:
                ready.put(message, timeout=_POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not offer((_ITEM, item)):
                    return
            offer((_END, None))
        except BaseException as exc:  # handed to the consumer, who raises it
            offer((_ERROR, exc))

    producer = threading.Thread(target=produce, name="prefetch", daemon=True)
    producer.start()
    try:
        while True:
            kind, value = ready.get()
            if kind == _END:
                return
            if kind == _ERROR:
                raise value  # type: ignore[misc]
            yield value  # type: ignore[misc]
    finally:
        stop.set()
        producer.join()  # the item in hand is finished first: `items` is never closed while it runs
        close = getattr(items, "close", None)
        if close is not None:
            close()
