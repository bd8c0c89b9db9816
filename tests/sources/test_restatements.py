"""Each vendor's restatement window: a record the vendor changes after it was loaded (a refund up to 14 days
after the sale, a late approval) reaches an incremental run, however old the record, as long as the change
happens inside the window the source documents. Checked by advancing past the window in one step."""

from __future__ import annotations

import numpy as np
import pytest

from pipelines.registry import SOURCES
from simulator.process import running_sandbox
from simulator.world import DAY, generate
from tests.conftest import TEST_SCALE
from tests.warehouse import PINNED_END, run_cli, sandbox_env, snapshot

REFUND_DAYS = 14  # the sandbox world refunds up to 14 days after the sale (simulator/world.py)
SEED = 21  # a world where several refunds land on sales older than a few days, at the test scale


def test_the_world_restates_old_records_while_the_clock_advances():
    """Without such refunds the test below could not fail."""
    world = generate(seed=SEED, scale=TEST_SCALE)
    sale, refund = np.asarray(world.conversions["time"]), np.asarray(world.conversions["refund_at"])
    late = (sale < world.clock - 4 * DAY) & (refund > world.clock) & (refund <= world.clock + (REFUND_DAYS + 1) * DAY)
    assert late.sum() >= 3


@pytest.mark.parametrize("vendor", list(SOURCES))
def test_changes_inside_the_restatement_window_reach_incremental_runs(tmp_path, vendor):
    incremental, fresh = tmp_path / "incremental.duckdb", tmp_path / "fresh.duckdb"
    with running_sandbox(seed=SEED, scale=TEST_SCALE) as sandbox:
        env = sandbox_env(sandbox, [vendor], **PINNED_END)

        def load(warehouse):
            done = run_cli(["--vendors", vendor, "--warehouse", str(warehouse), "--no-transform"], env)
            assert done.returncode == 0, done.stdout + done.stderr

        load(incremental)
        sandbox.advance(24 * (REFUND_DAYS + 1))
        load(incremental)
        load(fresh)
    assert snapshot(incremental, vendor) == snapshot(fresh, vendor)
