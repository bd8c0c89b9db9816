"""Where `make test`'s second tier (every test not marked fast) spends the machine: its wall time, and the CPU time of
every process started while it ran, by kind. Linux /proc only; on a quiet machine (any process started meanwhile
counts).

On 2 cores the tier is CPU-bound (more workers did not shorten it): its wall time is about its CPU time over the
cores, so only less work makes it shorter. The kinds say which work: dbt's builds, the Spark test cluster's
JVMs, the runners (forked from the test workers' zygotes, with their extract children), the sandboxes, the test
workers themselves (what tests run in-process), the browser, Postgres. A process that lives less than one
sampling interval is not seen; the reaped descendants' CPU (`getrusage`) is printed beside the sampled sum."""

from __future__ import annotations

import os
import re
import resource
import subprocess
import threading
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TICK = os.sysconf("SC_CLK_TCK")
# (kind, a piece of its command line): the first that matches names a process
KINDS = (
    ("Spark drivers (dbt's, runner's, tests')", "deploy.SparkSubmit"),
    ("Spark executors", "CoarseGrainedExecutorBackend"),
    ("Spark daemons, metastore tools", "org.apache.spark."),
    ("Spark daemons, metastore tools", "datanucleus"),
    ("dbt", "/bin/dbt "),
    ("runners, their extract children", "pipelines."),
    ("sandboxes (and proxies)", "simulator"),
    ("browser", "chrom"),
    ("Postgres", "postgres"),
    ("Dagster", "dagster"),
    ("test workers (in-process tests)", "pytest"),
    ("test workers (in-process tests)", "execnet"),
    ("test workers (in-process tests)", "exec(eval("),
)
OTHER = "other"
# A test's processes work in its temporary directory (pytest's tmp_path: .../popen-gw0/<test name, cut>0/...): dbt
# runs there, runners and sandboxes get paths in it; a process with none (the workers, a shared run's) is "shared"
TEST_DIRECTORY = re.compile(r"/pytest-of-[^/]+/pytest-\d+/(?:popen-gw\d+/)?([^/\s]+?)\d*(?=[/\s]|$)")
SHARED = "(no test directory: workers, shared runs, cluster)"
TIER_BUDGET_S = 540  # `make test` under 600 s on 2 cores, less the fast tier's ~45-55 s


def kind_of(command: str) -> str:
    return next((kind for kind, piece in KINDS if piece in command), OTHER)


def test_of(command: str, cwd: str) -> str:
    """The test directory a process works in (its working directory first, then its command line), else SHARED."""
    found = TEST_DIRECTORY.search(cwd + "/") or TEST_DIRECTORY.search(command + " ")
    return found.group(1) if found else SHARED


class CpuByProcess:
    """Samples /proc every `every_s`: each process started since the start (pid and start time), its kind, the test
    directory it works in and the most CPU time (user + system, seconds) seen for it."""

    def __init__(self, every_s: float = 0.5) -> None:
        self.every_s, self.seen = every_s, {}
        self._since = _uptime_ticks()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> CpuByProcess:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            self._sample()

    def _sample(self) -> None:
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                stat = Path(entry.path, "stat").read_text()
                fields = stat[stat.rindex(")") + 2:].split()  # after the command's name, which may hold spaces
                started, cpu = int(fields[19]), (int(fields[11]) + int(fields[12])) / TICK
                if started < self._since:
                    continue
                key = (entry.name, started)
                if key not in self.seen:
                    command = Path(entry.path, "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                    self.seen[key] = [kind_of(command), cpu, test_of(command, os.readlink(Path(entry.path, "cwd")))]
                self.seen[key][1] = max(self.seen[key][1], cpu)
            except (FileNotFoundError, ProcessLookupError, PermissionError, ValueError, IndexError):
                continue  # ended while read

    def by_kind(self) -> dict[str, tuple[int, float]]:
        """kind -> (processes, CPU seconds)."""
        return self._summed(0)

    def by_test(self) -> dict[str, tuple[int, float]]:
        """test directory -> (processes, CPU seconds) of the processes started for one test (SHARED: the rest)."""
        return self._summed(2)

    def _summed(self, field: int) -> dict[str, tuple[int, float]]:
        out: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
        for seen in self.seen.values():
            out[seen[field]][0] += 1
            out[seen[field]][1] += seen[1]
        return {name: (int(n), cpu) for name, (n, cpu) in out.items()}


def _uptime_ticks() -> int:
    return int(float(Path("/proc/uptime").read_text().split()[0]) * TICK)


def run_suite(report) -> None:
    """`make test-slow` (the tier `make test` runs after the fast one), measured; `report(name, value)` prints."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    with CpuByProcess() as sampled:
        done = subprocess.run(["make", "-s", "test-slow"], cwd=ROOT, capture_output=True, text=True)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    last = (done.stdout.strip().splitlines() or ["(no output)"])[-1].strip("= ")  # pytest's "214 passed in ..."
    report("suite: the tier after the fast one (`make test-slow`)", f"{wall:7.0f} s wall, exit {done.returncode}: "
           f"{last}")
    kinds = sampled.by_kind()
    total = sum(cpu for _, cpu in kinds.values())
    for kind, (processes, cpu) in sorted(kinds.items(), key=lambda item: -item[1][1]):
        report(f"  CPU: {kind}", f"{cpu:7.0f} s  ({processes} processes, {cpu / total:.0%})")
    for test, (processes, cpu) in sorted(sampled.by_test().items(), key=lambda item: -item[1][1])[:15]:
        report(f"  CPU of a test's processes: {test[:60]}", f"{cpu:7.0f} s  ({processes} processes)")
    cores = os.cpu_count() or 1
    reaped = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    report("  CPU sampled in all (reaped descendants only)", f"{total:7.0f} s ({reaped:.0f} s); "
           f"{total / (wall * cores):.0%} of {cores} cores over the wall time")
    report("  target: `make test` under 600 s on 2 cores", "met" if wall < TIER_BUDGET_S else
           f"not met: this tier alone {wall:.0f} s, over its {TIER_BUDGET_S} s (the fast tier adds ~45-55 s)")
