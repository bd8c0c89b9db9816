"""Reverse ETL under hostile conditions: faults, a push killed midway, rows the vendor refuses."""

from __future__ import annotations

import json
import shutil
import signal
import time

import pytest

from simulator.process import running_sandbox
from tests.conftest import TEST_SCALE, TEST_SEED
from tests.pushed import ALL, NO_WAIT, assert_vendors_hold_the_outboxes, rows, summary_of
from tests.warehouse import run_cli, sandbox_env, start_cli


def test_faults_leave_the_vendors_holding_exactly_the_outboxes(full_run, tmp_path):
    """The same warehouse pushed to fresh sandboxes of the same world under the flaky and storm faults: the
    vendors end up holding exactly the outboxes, as after a clean push (the first test). The two pushes run
    side by side: they spend most of their time in the client's backoff."""
    with running_sandbox(seed=TEST_SEED, scale=TEST_SCALE) as flaky, \
            running_sandbox(seed=TEST_SEED, scale=TEST_SCALE) as storm:
        pushes = {}
        for faults, sb in (("flaky", flaky), ("storm", storm)):
            warehouse = tmp_path / f"{faults}.duckdb"
            shutil.copy(full_run.warehouse, warehouse)
            sb.control("POST", "faults", {"profile": faults, "vendors": ["improvely", "convertloop"], **NO_WAIT})
            pushes[faults] = (sb, warehouse, start_cli(["--warehouse", str(warehouse), "--push-only"],
                                                       sandbox_env(sb, ALL, push=True)))
        for faults, (sb, warehouse, runner) in pushes.items():
            output, _ = runner.communicate(timeout=300)
            assert runner.returncode == 0, output
            assert_vendors_hold_the_outboxes(sb, warehouse)
            counts = sb.control("GET", "faults")["counts"]
            assert counts["5xx" if faults == "flaky" else "429"] > 0, counts


@pytest.mark.parametrize(("vendor", "resource"), [("improvely", "conversion"), ("convertloop", "event_logs")])
def test_a_push_killed_midway_and_rerun_sends_no_reference_twice(full_run, fresh_sandbox, tmp_path, vendor,
                                                                 resource):
    warehouse = tmp_path / "wh.duckdb"
    shutil.copy(full_run.warehouse, warehouse)
    env = sandbox_env(fresh_sandbox, ALL, push=True)
    runner = start_cli(["--warehouse", str(warehouse), "--push-only"], env)
    try:
        while len(fresh_sandbox.control("GET", "received").get(vendor, {}).get(resource, [])) < 40:
            assert runner.poll() is None, "the push ended before it could be killed"
            time.sleep(0.05)
        runner.send_signal(signal.SIGKILL)
    finally:
        runner.wait(60)
    again = run_cli(["--warehouse", str(warehouse), "--push-only"], env)
    assert again.returncode == 0, again.stdout + again.stderr
    # no Improvely reference twice, every row there; at most one ConvertLoop event more per kill
    assert_vendors_hold_the_outboxes(fresh_sandbox, warehouse, repeated_events=1)


def test_a_refused_row_waits_in_rejects_until_it_changes(full_run, fresh_sandbox, tmp_path):
    warehouse, summary = tmp_path / "wh.duckdb", tmp_path / "summary.json"
    shutil.copy(full_run.warehouse, warehouse)
    wrong = {"surf-shop": 999, "alpine-gear": 102, "outback-tees": 103}  # 999: no such Improvely project
    env = sandbox_env(fresh_sandbox, ALL, push=True, DESTINATIONS__IMPROVELY__PROJECTS=json.dumps(wrong))
    args = ["--warehouse", str(warehouse), "--push-only", "--summary-json", str(summary)]
    assert run_cli(args, env).returncode == 0
    surf = rows(warehouse, "select count(*) as n from outbox.outbox_improvely__conversions "
                           "where skip_reason is null and brand = 'surf-shop'")[0]["n"]
    rejects = rows(warehouse, "select * from reverse_etl.rejects")
    assert len(rejects) == surf > 0
    assert all(r["status"] == 400 and "`project`" in r["message"] for r in rejects)
    assert summary_of(summary)["improvely"]["rejected"] == surf

    assert run_cli(args, env).returncode == 0  # unchanged: not tried again
    assert summary_of(summary)["improvely"]["sent"] == 0 and summary_of(summary)["improvely"]["rejected"] == surf

    fixed = sandbox_env(fresh_sandbox, ALL, push=True)  # the shipped mapping: the rows change, go out, leave rejects
    assert run_cli(args, fixed).returncode == 0
    assert summary_of(summary)["improvely"]["sent"] == surf
    assert rows(warehouse, "select count(*) as n from reverse_etl.open_rejects") == [{"n": 0}]
    assert_vendors_hold_the_outboxes(fresh_sandbox, warehouse)
