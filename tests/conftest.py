"""Shared fixtures: sandboxes run as child processes on free loopback ports (real HTTP, nothing mocked)."""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pipelines.registry import SOURCES
from pipelines.vendors import env_key
from simulator.process import SandboxProcess, running_sandbox
from tests.warehouse import copy_warehouse, run_cli, sandbox_env

TEST_SEED = 11
TEST_SCALE = 0.4  # ~1,000 visitors: every code path, small enough for a 2-core machine
SHARED_WORK_BUDGET = 200_000
YOUNG_END = "2026-09-01T01:00:00Z"  # an hour after the world's history starts

# The longest modules first (their seconds in a suite on 2 cores, 2026-12-05): `make test` hands whole files to its
# workers in this order (--dist loadfile --no-loadscope-reorder), so the suite ends with short modules on every one
# instead of one worker alone on a long one (it did: the Dagster modules, unlisted, ran last, ~30 s with a core
# idle). The first three do not share a build: the Spark module its cluster's, the second builds the full and young
# runs that later ones copy, the third its own lake.
LONGEST_FIRST = (
    "tests/spark/test_spark.py",  # 368
    "tests/transforms/test_attribution_model.py",  # 182
    "tests/pipelines/test_ducklake.py",  # 107
    "tests/transforms/test_incremental.py",  # 134
    "tests/pipelines/test_publish.py",  # 80
    "tests/sources/test_integr8.py",  # 72
    "tests/pipelines/test_runner.py",  # 70
    "tests/pipelines/test_runner_stops.py",  # 69
    "tests/orchestration/test_dagster.py",  # 63
    "tests/pipelines/test_push_recovery.py",  # 62
    "tests/transforms/test_identity.py",  # 62
    "tests/dashboard/test_dashboard.py",  # 53
    "tests/sources/test_clickmagick.py",  # 52
    "tests/pipelines/test_kill_points.py",  # 49
    "tests/sources/test_restatements.py",  # 40
    "tests/pipelines/test_push.py",  # 40
    "tests/sources/test_data_contract.py",  # 33
    "tests/sources/test_schema_drift.py",  # 22
    "tests/sources/test_webmarketer.py",  # 20
    "tests/sources/test_change_filter.py",  # 17
    "tests/pipelines/test_runner_integrity.py",  # 16
    "tests/sources/test_hostile_paging.py",  # 14
    "tests/orchestration/test_dagster_definitions.py",  # 13
    "tests/sandbox/test_faults_and_exports.py",  # 11
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Modules in LONGEST_FIRST order, then the rest as collected; tests keep their order within a module."""
    if missing := [module for module in LONGEST_FIRST if not (config.rootpath / module).exists()]:
        raise pytest.UsageError(f"tests/conftest.py LONGEST_FIRST names modules that do not exist: {missing}")
    rank = {module: i for i, module in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))


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
        """The warehouse and dlt's state beside it (not the publication), copied into `directory`."""
        return copy_warehouse(self.warehouse, directory)


def shared_run(tmp_path_factory: pytest.TempPathFactory, name: str, **settings: str) -> FullRun:
    """A run built once per test session and shared by every xdist worker (the first to ask builds it under a
    file lock, the others wait and reuse it). Its own sandbox: same seed and scale as `sandbox`, so the same
    truth; `settings` are the runner's environment on top of the sandbox's."""
    root = tmp_path_factory.getbasetemp()  # this session's; under xdist each worker's, in the session's
    shared = (root.parent if os.environ.get("PYTEST_XDIST_WORKER") else root) / name
    shared.mkdir(exist_ok=True)
    warehouse, summary, stdout = shared / "wh.duckdb", shared / "summary.json", shared / "stdout.txt"
    with (shared / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not summary.exists():
            with running_sandbox(seed=TEST_SEED, scale=TEST_SCALE, work_budget=SHARED_WORK_BUDGET) as sb:
                # a fresh interpreter, not a fork (tests/forked.py): the suite starts the runner cold too
                done = run_cli(["--warehouse", str(warehouse), "--summary-json", str(summary), "--no-push"],
                               sandbox_env(sb, list(SOURCES), **settings), fork=False)
            assert done.returncode == 0, done.stdout + done.stderr
            stdout.write_text(done.stdout)
    return FullRun(warehouse, shared / "wh_published", json.loads(summary.read_text()), stdout.read_text())


@pytest.fixture(scope="session")
def full_run(tmp_path_factory) -> FullRun:
    return shared_run(tmp_path_factory, "full-run")


@pytest.fixture(scope="session")
def young_run(tmp_path_factory) -> FullRun:
    """A full run over the first hour of the world's history only: most tables get no rows, some nested
    tables do not exist yet."""
    return shared_run(tmp_path_factory, "young-run", **{env_key(vendor, "end_time"): YOUNG_END for vendor in SOURCES})
