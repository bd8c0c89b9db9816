"""Peak resident memory of this process and its children (dbt runs as one), sampled in a thread: what a
stage of the pipeline needs of the machine. Linux /proc only."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from types import TracebackType


def _rss_bytes(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return 0


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, PermissionError):
            continue
    return found


def tree_rss(root: int, skip: frozenset[int] = frozenset()) -> int:
    """RSS of `root` and its descendants, leaving out the subtrees of `skip` (e.g. the sandbox's process)."""
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        if pid in skip:
            continue
        total += _rss_bytes(pid)
        todo += _children(pid)
    return total


class PeakRss:
    """`with PeakRss(skip={sandbox_pid}) as peak: ...` then `peak.bytes`: of this process's tree, or of `root`'s
    (a child measuring the whole job: its parent's tree, itself included)."""

    def __init__(self, skip: set[int] | frozenset[int] = frozenset(), every_s: float = 0.05,
                 root: int | None = None) -> None:
        self.skip, self.every_s, self.bytes = frozenset(skip), every_s, 0
        self.root = os.getpid() if root is None else root
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while True:
            self.bytes = max(self.bytes, tree_rss(self.root, self.skip))
            if self._stop.wait(self.every_s):
                return

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join()
        self.bytes = max(self.bytes, tree_rss(self.root, self.skip))
