"""Shared fixtures: sandboxes run as child processes on free loopback ports (real HTTP, nothing mocked)."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pipelines.registry import SOURCES
from simulator.process import SandboxProcess, running_sandbox
from tests.warehouse import run_cli, sandbox_env

TEST_SEED = 11
TEST_SCALE = 0.4  # ~1,000 visitors: every code path, small enough for a 2-core machine
SHARED_WORK_BUDGET = 200_000


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxProcess]:
    """A sandbox shared by a test module; tests that change its clock or faults use `fresh_sandbox`."""
    # A module runs many full loads against it within ClickMagick's 5-minute work window: a larger budget
    # keeps them from waiting out 429s (the documented budget is tested in tests/sandbox/test_errors.py).
    with running_sandbox(seed=TEST_SEED, scale=TEST_SCALE, work_budget=SHARED_WORK_BUDGET) as sb:
        yield sb


@pytest.fixture
def fresh_sandbox() -> Iterator[SandboxProcess]:
    with running_sandbox(seed=TEST_SEED, scale=TEST_SCALE) as sb:
        yield sb


@dataclass(frozen=True)
class FullRun:
    """A full run (every vendor, dbt build, publish; no push, so a copy pushes from scratch) at the test seed
    and scale, for tests that only read it."""

    warehouse: Path
    published: Path
    summary: dict[str, Any]
    stdout: str

    def copy_to(self, directory: Path) -> Path:
        """The warehouse and dlt's working state beside it, copied into `directory` (not the publication): a
        warehouse that incremental runs carry on from."""
        shutil.copy(self.warehouse, directory / self.warehouse.name)
        dlt_dir = f".{self.warehouse.name}.dlt"
        shutil.copytree(self.warehouse.with_name(dlt_dir), directory / dlt_dir)
        return directory / self.warehouse.name


@pytest.fixture(scope="session")
def full_run(tmp_path_factory) -> FullRun:
    """Built once per test session and shared by every xdist worker (the first to ask builds it under a file
    lock, the others wait and reuse it). Its own sandbox: same seed and scale as `sandbox`, so the same truth."""
    root = tmp_path_factory.getbasetemp()  # this session's; under xdist each worker's, in the session's
    shared = (root.parent if os.environ.get("PYTEST_XDIST_WORKER") else root) / "full-run"
    shared.mkdir(exist_ok=True)
    warehouse, summary, stdout = shared / "wh.duckdb", shared / "summary.json", shared / "stdout.txt"
    with (shared / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not summary.exists():
            with running_sandbox(seed=TEST_SEED, scale=TEST_SCALE, work_budget=SHARED_WORK_BUDGET) as sb:
                done = run_cli(["--warehouse", str(warehouse), "--summary-json", str(summary), "--no-push"],
                               sandbox_env(sb, list(SOURCES)))
            assert done.returncode == 0, done.stdout + done.stderr
            stdout.write_text(done.stdout)
    return FullRun(warehouse, shared / "wh_published", json.loads(summary.read_text()), stdout.read_text())
