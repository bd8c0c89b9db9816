"""Peak memory of this process and its children (dbt, the runner's extract process), sampled in a thread: what a
stage of the pipeline needs of the machine. Linux /proc only.

Two sums over the processes: their RSS, and the job's memory: the same with each anonymous page counted once.
A forked child (the runner's extract process) shares its parent's pages until either writes them, and the RSS
of both counts those pages twice; the proportional share of anonymous pages (`Pss_Anon`: a page n processes
share counts 1/n in each; only the runner's own forks share anonymous pages) sums to each page once. Pages of
files (libraries) count in every process that maps them, as in RSS. For one process it is its RSS."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Self

from pipelines.child import LOAD_PROCESS


def _memory(pid: int) -> tuple[int, int]:
    """(RSS, RSS with its anonymous pages counted by their share) of one process in bytes; zeros once it ended."""
    found = {"Rss:": 0, "Anonymous:": 0, "Pss_Anon:": 0}
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            key = line.split(maxsplit=1)[0] if line else ""
            if key in found:
                found[key] = int(line.split()[1]) * 1024
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return found["Rss:"], found["Rss:"] - found["Anonymous:"] + found["Pss_Anon:"]


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, PermissionError):
            continue
    return found


def tree_pids(root: int, skip: frozenset[int] = frozenset()) -> list[int]:
    """`root` and its descendants, `root` first, leaving out the subtrees of `skip` (the sandbox)."""
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        if pid not in skip:
            found.append(pid)
            todo += _children(pid)
    return found


def memory_of(pids: list[int]) -> tuple[int, int]:
    """(RSS sum, the job's memory) of the processes `pids`."""
    both = [_memory(pid) for pid in pids]
    return sum(rss for rss, _ in both), sum(job for _, job in both)


def tree_memory(root: int, skip: frozenset[int] = frozenset()) -> tuple[int, int]:
    """(RSS sum, the job's memory) of `root` and its descendants, leaving out the subtrees of `skip` (the
    sandbox)."""
    return memory_of(tree_pids(root, skip))


class _Sampled:
    """Calls `_measure` every `every_s` in a thread, from entering `with` to leaving it (and once more then)."""

    def __init__(self, every_s: float) -> None:
        self.every_s = every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _measure(self) -> None:
        raise NotImplementedError

    def _sample(self) -> None:
        while True:
            self._measure()
            if self._stop.wait(self.every_s):
                return

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join()
        self._measure()


class PeakRss(_Sampled):
    """`with PeakRss(skip={sandbox_pid}) as peak: ...` then `peak.bytes` (the RSS sum's peak) and `peak.job` (the
    job memory's): of this process's tree, or of `root`'s (a child measuring the whole job: its parent's tree)."""

    def __init__(self, skip: set[int] | frozenset[int] = frozenset(), every_s: float = 0.05,
                 root: int | None = None) -> None:
        super().__init__(every_s)
        self.skip, self.bytes, self.job = frozenset(skip), 0, 0
        self.root = os.getpid() if root is None else root

    def _measure(self) -> None:
        rss, job = tree_memory(self.root, self.skip)
        self.bytes, self.job = max(self.bytes, rss), max(self.job, job)


def _program(pid: int) -> str:
    """The name of the program a process runs (a Python entry point such as `dbt`: the script, not Python)."""
    try:
        argv = [Path(a.decode()).name for a in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[:2]]
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return ""
    return argv[1] if argv[0].startswith("python") and len(argv) > 1 else argv[0]


def _name(pid: int) -> str:
    """A process's name (/proc/<pid>/comm), which the runner sets for its forked children."""
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return ""


def runner_phase(runner: int, pids: list[int] | None = None) -> str:
    """What the runner (`python -m pipelines.run`) is doing, from its processes (`pids`: its tree, as tree_pids
    reads it; read here when not given): dbt building (a `dbt` process below it), its extract process (a forked
    child: every vendor's extract and normalize side by side), its load process (the next: the loads one after
    another), or the runner alone (starting, publishing, pushing)."""
    below = (tree_pids(runner) if pids is None else pids)[1:]
    if any(_program(pid) == "dbt" for pid in below):
        return "dbt build"
    names = {_name(pid) for pid in below}
    if LOAD_PROCESS in names:
        return "load"
    return "extract and normalize" if below else "the runner alone"


class RunnerPeaks(_Sampled):
    """`with RunnerPeaks(runner_pid) as peaks: <wait for it>` then `peaks.phases`: for each phase of the runner's
    job (`runner_phase`), its seconds and the peaks of the RSS sum and of the job's memory over the runner's whole
    tree while in it."""

    def __init__(self, runner: int, every_s: float = 0.05) -> None:
        super().__init__(every_s)
        self.runner = runner
        self.phases: dict[str, dict[str, float]] = {}
        self._last = time.monotonic()

    def _measure(self) -> None:
        pids = tree_pids(self.runner)  # one walk of the tree for the phase and the memory
        phase = runner_phase(self.runner, pids)
        rss, job = memory_of(pids)
        now = time.monotonic()
        seen = self.phases.setdefault(phase, {"seconds": 0.0, "rss": 0, "job": 0})
        seen["seconds"] += now - self._last
        seen["rss"], seen["job"] = max(seen["rss"], rss), max(seen["job"], job)
        self._last = now
