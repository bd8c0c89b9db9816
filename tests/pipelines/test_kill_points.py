"""Incremental runs killed at exact points (after extract, after normalize, after a file's staging copy, after
the merge) converge to the uninterrupted tables: every merge happens exactly once whatever the kill point."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from simulator.process import running_sandbox
from tests.conftest import TEST_SCALE, TEST_SEED
from tests.warehouse import run_cli, sandbox_env, snapshot

# The table of each vendor whose copy is cut: the roots with nested children are the ones whose re-copied
# rows share `_dlt_id`s, which the merge's key de-duplication does not catch; Integr8's conversions are
# appended, so nothing de-duplicates a second copy in the table itself.
POINTS = [
    ("clickmagick", "after-copy:sales"),
    ("integr8", "after-copy:conversions"),
    ("webmarketer", "after-copy:events"),
    ("webmarketer", "after-copy:events__metrics"),
    ("clickmagick", "after-merge:sales"),
    ("integr8", "after-extract"),
    ("webmarketer", "after-normalize"),
]
ADVANCE_H = 24 * 4  # new records, and restated ones inside the lookback
VENDORS = sorted({vendor for vendor, _ in POINTS})
Snapshot = dict[str, list[tuple[Any, ...]]]


def args(vendor: str, warehouse: Path) -> list[str]:
    return ["--vendors", vendor, "--warehouse", str(warehouse), "--no-transform"]


@pytest.fixture(scope="module")
def reference(full_run, tmp_path_factory) -> dict[str, tuple[Snapshot, Snapshot]]:
    """Each vendor's tables (current rows, and every row of the logs) after an uninterrupted incremental run
    carried the full run on past the advance. The world at a seed and clock is the same in every sandbox."""
    warehouse = full_run.copy_to(tmp_path_factory.mktemp("reference"))
    with running_sandbox(seed=TEST_SEED, scale=TEST_SCALE) as sb:
        sb.advance(ADVANCE_H)
        done = run_cli(["--warehouse", str(warehouse), "--no-transform"], sandbox_env(sb, VENDORS))
    assert done.returncode == 0, done.stdout + done.stderr
    return {vendor: (snapshot(warehouse, vendor), snapshot(warehouse, vendor, logs=True)) for vendor in VENDORS}


@pytest.mark.parametrize(("vendor", "point"), POINTS)
def test_incremental_run_killed_inside_the_load_converges(full_run, reference, fresh_sandbox, tmp_path, vendor,
                                                          point):
    killed = full_run.copy_to(tmp_path)  # the full run's world is the fresh sandbox's before it advances
    env = sandbox_env(fresh_sandbox, [vendor])
    fresh_sandbox.advance(ADVANCE_H)
    died = run_cli([point, "--", *args(vendor, killed)], env, module="tests.killpoint")
    # The kill hits the runner's extract process, or its load process for a point inside the load
    # (pipelines/child.py), as the OOM killer would: the runner outlives it, says so and fails the run.
    process = "load" if point.startswith("after-copy") or point.startswith("after-merge") else "extract"
    said = rf"^\s*{vendor}\s+failed\s.*the {process} process was killed by SIGKILL$"
    assert died.returncode == 1 and re.search(said, died.stdout, re.MULTILINE), \
        f"the kill point was never reached: {died.stdout}{died.stderr}"
    rerun = run_cli(args(vendor, killed), env)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    tables, logs = reference[vendor]
    assert snapshot(killed, vendor) == tables
    # Each file copied exactly once: an appended table (Integr8's event logs) holds no second copy either.
    assert snapshot(killed, vendor, logs=True) == logs
