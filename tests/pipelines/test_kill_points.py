"""Incremental runs killed at exact points (after extract, after normalize, after a file's staging copy, after
the merge) converge to the uninterrupted tables: every merge happens exactly once whatever the kill point."""

from __future__ import annotations

import pytest

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




@pytest.mark.parametrize(("vendor", "point"), POINTS)
def test_incremental_run_killed_inside_the_load_converges(fresh_sandbox, tmp_path, vendor, point):
    env = sandbox_env(fresh_sandbox, [vendor])
    reference, killed = tmp_path / "reference.duckdb", tmp_path / "killed.duckdb"

    def args(warehouse):
        return ["--vendors", vendor, "--warehouse", str(warehouse), "--no-transform"]

    for warehouse in (reference, killed):
        assert run_cli(args(warehouse), env).returncode == 0
    fresh_sandbox.advance(24 * 4)  # new records, and restated ones inside the lookback
    assert run_cli(args(reference), env).returncode == 0
    died = run_cli([point, "--", *args(killed)], env, module="tests.killpoint")
    assert died.returncode == -9, f"the kill point was never reached: {died.stdout}{died.stderr}"
    rerun = run_cli(args(killed), env)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert snapshot(killed, vendor) == snapshot(reference, vendor)
    # Each file copied exactly once: an appended table (Integr8's event logs) holds no second copy either.
    assert snapshot(killed, vendor, logs=True) == snapshot(reference, vendor, logs=True)
