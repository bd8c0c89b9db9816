"""The pause harness itself (tests/pausepoint.py): what the test reads once the run says it is held."""

from __future__ import annotations

import os
import threading

import pytest

from tests.pausepoint import announce

pytestmark = pytest.mark.fast


def test_the_paused_file_holds_the_pid_from_the_moment_it_exists(tmp_path):
    """`start_paused` waits for the file, then the test reads the pid in it: a file written in place was read
    empty by a suite (`int('')`)."""
    read = []
    for _ in range(200):
        (tmp_path / "paused").unlink(missing_ok=True)
        writer = threading.Thread(target=announce, args=(tmp_path,))
        writer.start()
        while not (tmp_path / "paused").exists():
            pass
        read.append((tmp_path / "paused").read_text())
        writer.join()
    assert set(read) == {str(os.getpid())}
