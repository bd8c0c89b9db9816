"""pipelines.child: a step in a forked child, as the runner runs its extract and loads."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from dlt_adapter import intercepted_signals, received_signal, signal_received
from pipelines.child import ChildDied, in_child
from pipelines.heap import resident_bytes

pytestmark = pytest.mark.fast


def allocate(megabytes: int) -> int:
    """How much this process's resident memory grew while it held `megabytes` of small objects (as rows read
    as dicts are)."""
    before = resident_bytes()
    kept = [bytes(1024) for _ in range(megabytes * 1024)]
    grew = resident_bytes() - before
    del kept
    return grew


def refuse() -> None:
    raise ValueError("Integr8 /exports: the archive is damaged")


def killed() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def wait_for_a_signal() -> int:
    deadline = time.monotonic() + 30
    while not signal_received() and time.monotonic() < deadline:
        time.sleep(0.02)
    return received_signal() if signal_received() else 0


def test_the_steps_answer_comes_back_and_its_memory_leaves_with_the_child():
    before = resident_bytes()
    assert in_child(allocate, 300) > 250 * 2**20  # the child held the memory
    assert resident_bytes() < before + 20 * 2**20  # the runner does not


def test_what_the_step_raises_is_raised_as_itself():
    with pytest.raises(ValueError, match="Integr8 /exports: the archive is damaged"):
        in_child(refuse)


def test_a_child_killed_by_the_kernel_is_said_as_such():
    with pytest.raises(ChildDied, match="was killed by SIGKILL"):
        in_child(killed)


def test_a_signal_the_runner_receives_reaches_the_child_once():
    assert threading.current_thread() is threading.main_thread()  # else the handlers are not installed
    with intercepted_signals():
        timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGTERM))
        timer.start()
        try:
            assert in_child(wait_for_a_signal) == signal.SIGTERM  # the child stopped at its own pace, answering
        finally:
            timer.cancel()
        assert signal_received() and received_signal() == signal.SIGTERM
