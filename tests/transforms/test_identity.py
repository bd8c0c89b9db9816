"""The hard identity world (`serve --identity hard`: records without a shared key, mistyped emails; the
emails are checked in tests/sandbox/test_identity_world.py): the warehouse still makes one conversion of each
real order, scored pairwise against the truth's record ids."""

from __future__ import annotations

import duckdb

from attribution.accuracy import record_grouping
from pipelines.registry import SOURCES
from simulator.process import running_sandbox
from tests.conftest import SHARED_WORK_BUDGET, TEST_SCALE, TEST_SEED
from tests.warehouse import run_cli, sandbox_env


def test_records_without_a_shared_key_still_make_one_conversion_per_order(tmp_path):
    warehouse = tmp_path / "wh.duckdb"
    with running_sandbox(seed=TEST_SEED, scale=TEST_SCALE, identity="hard", work_budget=SHARED_WORK_BUDGET) as sb:
        done = run_cli(["--warehouse", str(warehouse), "--no-push", "--no-publish"], sandbox_env(sb, list(SOURCES)))
        assert done.returncode == 0, done.stdout + done.stderr
        truth = sb.control("GET", "truth/conversions")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        # the world is hard: records that carry no order reference and no identifier another vendor has
        keyless = con.execute("""select count(*) from intermediate.int_conversion_records__matched as m
            where m.order_ref is null and not exists (select 1 from intermediate.int_conversion_records__matched as r
                where r.order_ref is not null and r.person_id = m.person_id)""").fetchone()[0]
        conversions = con.execute("select count(*) from marts.conversions").fetchone()[0]
    assert keyless >= 3
    grouping = record_grouping(str(warehouse), truth)
    assert grouping["found"][0] == grouping["found"][1]  # every record the truth lists was loaded
    assert min(grouping["deduplication"]) >= 0.98, grouping
    assert conversions == len(truth)
    # a keyless record matched by its value keeps a person of its own: the identity graph has no edge to it
    assert min(grouping["stitching"]) >= 0.9, grouping
