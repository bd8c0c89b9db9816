"""CLI runs for tests (`python -m <module> <args>`), forked from an interpreter that imported the runner already.

A fresh interpreter pays about 2 s of CPU importing dlt, DuckDB, pyarrow, sqlglot and httpx before any work,
and the suite starts about 70 runs; forked, the runner-heavy modules took 332 s of CPU instead of 369 s (the
rest of a run's start-up, module bodies and interpreter exit, remains). A zygote per pytest worker imports them
once; each run is a fork of it that takes its environment, working directory and output files, runs the module
as `__main__` and ends as `python -m` does (atexit handlers, threads joined, its own exit code). The run is a real
process: signals, kill -9, /proc and its own children (dbt) behave as with `subprocess`. Between the zygote and
the run sits a second fork that waits for the run and writes its exit status, so the zygote never waits on a run.
What a run shares with the zygote: the modules it imported and the seed of str hashing (set orders repeat from
run to run, where fresh interpreters would each draw one).

`TESTS_FORK_CLI=0` starts every run as a fresh interpreter instead (the shared full runs always are one, so the
suite starts the CLI cold too). Standard library only: this module is the zygote's `__main__`.
"""

from __future__ import annotations

import atexit
import importlib
import json
import os
import random
import runpy
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# What every CLI the tests run imports (the kill-point harness and push too), and what a run imports only once it
# works: pandas (DuckDB's at its first Arrow scan), dlt's DuckDB client, requests and plugins, httpx's transport.
PRELOAD = ("pipelines.run", "pandas", "pyarrow.dataset", "pyarrow.pandas_compat", "dlt.destinations.impl.duckdb.duck",
           "dlt.sources.helpers.requests", "pluggy", "httpcore", "h11")
ENABLED = os.environ.get("TESTS_FORK_CLI", "1") != "0"


class ForkedRun:
    """A forked CLI run, with the part of `subprocess.Popen`'s interface the tests use. Its stdout and stderr go
    to files; `merged` sends both to one, as `stderr=subprocess.STDOUT` does."""

    def __init__(self, args: list[str], pid: int, workdir: Path) -> None:
        self.args, self.pid, self._workdir = args, pid, workdir
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None and (status := self._workdir / "status").exists():
            self.returncode = int(status.read_text())
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(self.args, timeout or 0)
            time.sleep(0.02)
        assert self.returncode is not None
        return self.returncode

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:  # as Popen: never signal a pid that may have been reused
            os.kill(self.pid, sig)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def output(self, stream: str) -> str:
        path = self._workdir / stream
        return path.read_text(errors="replace") if path.exists() else ""

    def communicate(self, timeout: float | None = None) -> tuple[str, None]:
        """The merged output once the run ended (for runs started with `merged`)."""
        self.wait(timeout)
        return self.output("stdout"), None

    def __del__(self) -> None:
        shutil.rmtree(self._workdir, ignore_errors=True)


class _Zygote:
    def __init__(self) -> None:
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()

    def _running(self) -> subprocess.Popen[bytes]:
        if self._proc is None or self._proc.poll() is not None:
            self._proc = subprocess.Popen([sys.executable, "-m", "tests.forked", *PRELOAD], cwd=ROOT,
                                          stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        return self._proc

    def start(self, module: str, args: list[str], env: dict[str, str], cwd: Path, merged: bool) -> ForkedRun:
        workdir = Path(tempfile.mkdtemp(prefix="forked-run-"))
        request = {"module": module, "args": args, "env": env, "cwd": str(cwd), "workdir": str(workdir),
                   "merged": merged}
        with self._lock:
            proc = self._running()
            assert proc.stdin is not None and proc.stdout is not None
            proc.stdin.write(json.dumps(request).encode() + b"\n")
            proc.stdin.flush()
            reply = proc.stdout.readline()
        if not reply:
            raise RuntimeError(f"the CLI zygote ended (exit {proc.wait()}) before it could start {module}")
        return ForkedRun([module, *args], int(reply), workdir)

    def close(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            assert self._proc.stdin is not None
            self._proc.stdin.close()  # the zygote ends at the end of its requests
            self._proc.wait(30)


_ZYGOTE = _Zygote()
atexit.register(_ZYGOTE.close)


def start(module: str, args: list[str], env: dict[str, str], cwd: Path = ROOT, merged: bool = False) -> ForkedRun:
    return _ZYGOTE.start(module, args, env, cwd, merged)


def run(module: str, args: list[str], env: dict[str, str], cwd: Path = ROOT,
        timeout: float | None = None) -> subprocess.CompletedProcess[str]:
    """As `subprocess.run(..., capture_output=True, text=True, timeout=...)`: on a timeout the run is killed."""
    forked = start(module, args, env, cwd)
    try:
        forked.wait(timeout)
    except subprocess.TimeoutExpired:
        forked.kill()
        forked.wait()
        raise
    return subprocess.CompletedProcess(forked.args, forked.wait(), forked.output("stdout"), forked.output("stderr"))


# The zygote's side: `python -m tests.forked <modules to import>`, one JSON request a line on stdin, each answered
# with the run's pid on stdout.


def _serve() -> dict[str, Any] | None:
    """The zygote's loop. Returns in a forked run (with its request), or None once the requests end."""
    for module in sys.argv[1:]:
        importlib.import_module(module)
    if "duckdb" in sys.modules:  # its default connection's worker threads would not survive a fork (an abort at
        sys.modules["duckdb"].default_connection().close()  # exit): closed; DuckDB opens another when asked
    for line in sys.stdin:
        _reap()
        request = json.loads(line)
        if os.fork() != 0:
            continue
        run = os.fork()
        if run == 0:
            return request
        try:  # the waiter: tell the worker the run's pid, wait for it, write its status, and end
            os.write(sys.stdout.fileno(), f"{run}\n".encode())
            _, status = os.waitpid(run, 0)
            status_file = Path(request["workdir"]) / "status"
            status_file.with_suffix(".tmp").write_text(str(os.waitstatus_to_exitcode(status)))
            status_file.with_suffix(".tmp").rename(status_file)  # whole, or not there yet
        finally:
            os._exit(0)
    return None


def _reap() -> None:
    """The waiters that ended (each ends with its run)."""
    try:
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass
    except ChildProcessError:
        pass


def _become(request: dict[str, Any]) -> None:
    """In the forked run: the request's streams, directory and environment, then its module as `__main__`."""
    workdir = Path(request["workdir"])
    streams = [os.devnull, workdir / "stdout", workdir / ("stdout" if request["merged"] else "stderr")]
    for fd, path in enumerate(streams):  # fds 0, 1 and 2, as a fresh interpreter has only those
        opened = os.open(path, os.O_RDONLY if fd == 0 else os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(opened, fd)
        os.close(opened)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    random.seed()  # not the zygote's sequence, as in a fresh interpreter
    sys.argv = [request["module"], *request["args"]]
    sys.modules.pop(request["module"], None)  # not imported yet, as in a fresh interpreter (runpy warns otherwise)
    runpy.run_module(request["module"], run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    if (forked_request := _serve()) is not None:
        _become(forked_request)
