"""The `scale` bench judges the job as the runner runs it: each sample of its memory belongs to the phase its
processes show (benchmarks/memory.py)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmarks.memory import runner_phase
from pipelines.child import LOAD_PROCESS

SLEEP = "import time; time.sleep(60)"


def settled_phase(parent_code: str, expected: str, timeout_s: float = 20) -> str:
    """The phase `runner_phase` reads for a Python process running `parent_code`: `expected` as soon as it reads
    that (a child shows its parent's command line until it executes its own), else the last one read."""
    parent = subprocess.Popen([sys.executable, "-c", parent_code])
    try:
        deadline = time.monotonic() + timeout_s
        while (phase := runner_phase(parent.pid)) != expected and time.monotonic() < deadline:
            time.sleep(0.05)
        return phase
    finally:
        subprocess.run(["pkill", "-P", str(parent.pid)], check=False)
        parent.kill()
        parent.wait()


@pytest.mark.fast
def test_the_runners_phase_is_read_from_its_processes(tmp_path: Path):
    """The runner alone; with a child (its forked extract process); with its load process (a child it names
    so); with a `dbt` entry point below it (a Python script run by the interpreter, as a virtualenv's console
    script is)."""
    dbt = tmp_path / "dbt"
    dbt.write_text(SLEEP)
    loader = f"from pipelines.child import name_process; name_process({LOAD_PROCESS!r}); {SLEEP}"
    spawn = "import subprocess, sys, time; subprocess.Popen({argv}); time.sleep(60)"
    for code, phase in ((SLEEP, "the runner alone"),
                        (spawn.format(argv=[sys.executable, "-c", SLEEP]), "extract and normalize"),
                        (spawn.format(argv=[sys.executable, "-c", loader]), "load"),
                        (spawn.format(argv=[sys.executable, str(dbt)]), "dbt build")):
        assert settled_phase(code, phase) == phase, code
