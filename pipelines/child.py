"""A step of the run in a forked child process, so that what the step allocates leaves with it.

The extract, normalize and load leave the process holding memory it can no longer give back: at scale 450 the
runner held ~0.55 GiB after the loads (Python's object arenas, fragmented by millions of rows read as dicts,
cannot be returned while one object in them lives), and dbt's build ran beside it. In a child, that memory
is the operating system's again when the child ends, and the run's peak is the larger of its steps, not their
sum. A child killed by the kernel (out of memory) ends the step with a message; the runner still writes its
summary.

The child dies with the runner (even by SIGKILL), runs in a process group of its own (a terminal's Ctrl-C
reaches the runner only) and gets each SIGINT / SIGTERM the runner receives once, forwarded: it stops at its
next safe point as the runner's own steps do. Linux and other POSIX systems (fork)."""

from __future__ import annotations

import contextlib
import ctypes
import os
import pickle
import select
import signal
import sys
import traceback
from collections.abc import Callable
from typing import TypeVar

from dlt_adapter import received_signal, signal_received

T = TypeVar("T")
PR_SET_PDEATHSIG, PR_SET_NAME = 1, 15  # <linux/prctl.h>
EXTRACT_PROCESS, LOAD_PROCESS = "run-extract", "run-load"  # the runner's children, as `ps` names them
POLL_S = 0.2  # how soon a signal the runner received reaches the child


class ChildDied(RuntimeError):
    """The child ended without an answer: killed by a signal (the OOM killer sends SIGKILL) or exited."""


class ChildFailed(RuntimeError):
    """The step raised in the child an exception that cannot come back as itself; the message carries its
    traceback."""


def die_with_parent() -> None:
    """In a child: the kernel kills it when the runner dies, even by SIGKILL."""
    with contextlib.suppress(OSError, AttributeError):  # not Linux: the runner's signal handling still stops it
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def name_process(name: str) -> None:
    """The process's name as `ps` and /proc/<pid>/comm show it (15 bytes at most), e.g. the runner's `run-extract`."""
    with contextlib.suppress(OSError, AttributeError):  # not Linux: the name stays the runner's
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_NAME, name.encode()[:15])


def _child(step: Callable[..., T], args: tuple[object, ...], answer: int, name: str | None) -> None:
    code = 0
    try:
        die_with_parent()
        if name:
            name_process(name)
        os.setpgid(0, 0)
        try:
            payload = pickle.dumps((True, step(*args)))
        except BaseException as exc:  # raised again in the runner, as if the step had run there
            try:
                payload = pickle.dumps((False, exc))
            except Exception:  # an exception that does not pickle: its traceback as text
                payload = pickle.dumps((False, ChildFailed(traceback.format_exc())))
        with os.fdopen(answer, "wb") as out:
            out.write(payload)
    except BaseException:  # nothing may escape into the runner's code in this process
        code = 1
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)  # not the runner's exit handlers, locks or open files: they are the runner's


def _status(pid: int) -> str:
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        return f"was killed by {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exited with code {os.waitstatus_to_exitcode(status)} without an answer"


def in_child(step: Callable[..., T], *args: object, name: str | None = None) -> T:
    """`step(*args)` in a forked child (named `name`); its return value (pickled) comes back, or what it raised is
    raised here.
    Raises ChildDied when the child ends without an answer. Call it from the main thread, before the step's threads
    start: fork copies only the calling thread (a thread that only reads a pipe, as the sandbox's, is harmless)."""
    for stream in (sys.stdout, sys.stderr):  # or the child would print what the runner buffered again
        stream.flush()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        _child(step, args, write_end, name)
    os.close(write_end)
    forwarded, chunks = False, []
    try:
        with os.fdopen(read_end, "rb", buffering=0) as answer:
            while True:
                if signal_received() and not forwarded:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, received_signal())
                    forwarded = True
                ready, _, _ = select.select([answer], [], [], POLL_S)
                if ready:
                    chunk = answer.read(1 << 20)
                    if not chunk:
                        break
                    chunks.append(chunk)
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        raise
    status = _status(pid)
    if not chunks:
        raise ChildDied(status)
    try:
        ok, value = pickle.loads(b"".join(chunks))
    except (pickle.UnpicklingError, EOFError) as exc:  # cut short while writing its answer
        raise ChildDied(status) from exc
    if not ok:
        raise value
    return value
