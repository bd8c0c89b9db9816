"""Runner integrity: working state keyed on the whole warehouse name and re-synced from a restored warehouse,
the right error shown, usage errors."""

from __future__ import annotations

import shutil

import dlt
import pyarrow as pa
import pytest

from pipelines.errors import root_cause
from pipelines.registry import SOURCES
from tests.warehouse import PINNED_END, count, run_cli, sandbox_env, snapshot
from warehouse import pipelines_dir


def test_two_warehouses_with_one_stem_keep_separate_state(sandbox, tmp_path):
    assert pipelines_dir(tmp_path / "w.duckdb") != pipelines_dir(tmp_path / "w.db")
    env = sandbox_env(sandbox, ["webmarketer"], **PINNED_END)
    for name in ("w.duckdb", "w.db"):
        done = run_cli(["--vendors", "webmarketer", "--warehouse", str(tmp_path / name), "--no-transform"], env)
        assert done.returncode == 0, done.stdout + done.stderr
    truth = sandbox.truth()["webmarketer"]["events"]
    assert count(tmp_path / "w.duckdb", "select count(*) from webmarketer.events") == truth
    assert count(tmp_path / "w.db", "select count(*) from webmarketer.events") == truth


def test_the_error_shown_is_the_one_raised_not_one_it_was_handling(tmp_path):
    @dlt.resource(name="amounts")
    def amounts():
        try:
            next(iter([]))
        except StopIteration:  # an unrelated exception being handled when the real one happens
            pa.array(["0.00", "twelve"]).cast(pa.float64())
        yield [{"amount": 1.0}]

    pipeline = dlt.pipeline("error_chain", destination=dlt.destinations.duckdb(str(tmp_path / "e.duckdb")),
                            pipelines_dir=str(tmp_path / ".dlt"))
    with pytest.raises(Exception) as failure:
        pipeline.run(amounts())
    shown = root_cause(failure.value)
    assert isinstance(shown, pa.ArrowInvalid), repr(shown)


@pytest.mark.parametrize(("value", "says"), [("2026-13-45", "is not an ISO-8601 date"), ("yesterday", "is not an ISO"),
                                             ("2999-01-01", "is in the future")])
def test_a_bad_backfill_date_is_one_usage_error(tmp_path, value, says):
    done = run_cli(["--warehouse", str(tmp_path / "w.duckdb"), "--backfill-from", value], {})
    assert done.returncode == 2, done.stdout + done.stderr
    assert "--backfill-from" in done.stderr and says in done.stderr
    assert done.stderr.count("error:") == 1 and not done.stdout


def test_a_warehouse_restored_from_a_backup_re_reads_what_it_lost(full_run, fresh_sandbox, tmp_path):
    # The full run's world is the fresh sandbox's before it advances: last night's warehouse.
    vendors = list(SOURCES)
    env = sandbox_env(fresh_sandbox, vendors)
    restored, backup = full_run.copy_to(tmp_path), tmp_path / "backup"
    shutil.copy(restored, backup)

    def run():
        done = run_cli(["--warehouse", str(restored), "--no-transform"], env)
        assert done.returncode == 0, done.stdout + done.stderr
        return done

    fresh_sandbox.advance(24 * 2)
    run()
    reference = {vendor: snapshot(restored, vendor) for vendor in vendors}
    shutil.copy(backup, restored)  # the operator restores last night's backup; the working state stays newer
    again = run()
    for vendor in vendors:
        assert snapshot(restored, vendor) == reference[vendor], vendor
    assert "re-syncing state from the warehouse" in again.stderr
