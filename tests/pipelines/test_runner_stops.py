"""How a run ends when it is stopped or fails outside any vendor: signals stop the whole run and its dbt child,
a killed runner takes dbt with it, and every failure ends with the summary and a one-line cause."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from pipelines.registry import SOURCES
from tests.warehouse import PINNED_END, count, run_cli, sandbox_env, start_cli
from warehouse.lock import WarehouseBusy, WarehouseLock

ALL = list(SOURCES)
END = PINNED_END


def children(pid: int) -> list[tuple[int, str]]:
    """(pid, command line) of the live processes whose parent is `pid`."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append((int(stat.parent.name), cmdline))
    return found


def wait_for_dbt(runner: subprocess.Popen[str], timeout_s: float = 180) -> int:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert runner.poll() is None, "the run ended before dbt started"
        dbt = [pid for pid, cmd in children(runner.pid) if " build " in cmd]
        if dbt:
            time.sleep(1.0)  # let dbt get going
            return dbt[0]
        time.sleep(0.1)
    raise AssertionError("dbt never started")


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    return not alive(pid)


# The full run's world is the module sandbox's: nothing new at the vendors, and --force-transform builds anyway,
# so these runs reach dbt at once (and show the flag starts a build).


def test_sigterm_during_dbt_stops_dbt_writes_the_summary_and_exits_143(full_run, sandbox, tmp_path):
    wh, summary = full_run.copy_to(tmp_path), tmp_path / "summary.json"
    runner = start_cli(["--warehouse", str(wh), "--summary-json", str(summary), "--force-transform"],
                       sandbox_env(sandbox, ALL))
    dbt = wait_for_dbt(runner)
    runner.send_signal(signal.SIGTERM)
    output, _ = runner.communicate(timeout=30)
    assert runner.returncode == 143, output
    assert not alive(dbt), "dbt outlived the run"
    report = json.loads(summary.read_text())
    assert report["status"] == "interrupted" and report["transform"]["status"] == "interrupted"
    assert "run interrupted" in output
    with WarehouseLock(wh):  # released, and only now
        pass


def test_a_runner_killed_during_dbt_takes_dbt_with_it(full_run, sandbox, tmp_path):
    wh, summary = full_run.copy_to(tmp_path), tmp_path / "summary.json"
    env = sandbox_env(sandbox, ALL)
    runner = start_cli(["--warehouse", str(wh), "--force-transform"], env)
    dbt = wait_for_dbt(runner)
    runner.kill()
    runner.wait()
    try:  # the lock lasts as long as dbt does (no second writer meanwhile); dbt is dying too by now, so the lock
        with WarehouseLock(wh):  # may be free already: then only because dbt is gone, a moment later at most
            freed = True
    except WarehouseBusy:
        freed = False
    assert not freed or gone_within(dbt, 1), "the lock was released while dbt kept running"
    assert gone_within(dbt, 10), "dbt kept running after the runner was killed"
    again = run_cli(["--warehouse", str(wh), "--force-transform", "--summary-json", str(summary)], env)
    assert again.returncode == 0, again.stdout + again.stderr
    report = json.loads(summary.read_text())
    assert report["transform"]["status"] == "built" and report["published"]["status"] == "published"


def test_sigint_during_extract_stops_the_whole_run(sandbox, tmp_path):
    wh, summary = tmp_path / "wh.duckdb", tmp_path / "summary.json"
    env = sandbox_env(sandbox, ALL, **END)
    runner = start_cli(["--warehouse", str(wh), "--summary-json", str(summary)], env)
    working = tmp_path / ".wh.duckdb.dlt" / f"attribution_{ALL[0]}"
    deadline = time.monotonic() + 60
    while not working.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    runner.send_signal(signal.SIGINT)
    output, _ = runner.communicate(timeout=60)
    assert runner.returncode == 130, output
    report = json.loads(summary.read_text())
    statuses = [v["status"] for v in report["vendors"]]
    assert report["status"] == "interrupted" and report["transform"] is None
    # The vendors extract side by side: each stops at its next safe point, none is recorded as loaded.
    assert "interrupted" in statuses and set(statuses) <= {"interrupted", "skipped"}, statuses
    again = run_cli(["--warehouse", str(wh), "--no-transform"], env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert count(wh, f"select count(*) from {ALL[0]}.{'sales' if ALL[0] == 'clickmagick' else 'projects'}") > 0


def test_a_lock_that_cannot_be_created_ends_with_the_summary(tmp_path):
    (tmp_path / "wh.duckdb.lock").mkdir()  # something else where the lock file goes
    summary = tmp_path / "summary.json"
    done = run_cli(["--warehouse", str(tmp_path / "wh.duckdb"), "--summary-json", str(summary)], {})
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    report = json.loads(summary.read_text())
    assert report["status"] == "failed" and "wh.duckdb.lock" in report["error"]
    assert f"error: {report['error']}" in done.stdout


def test_a_reader_holding_the_warehouse_is_named_as_the_cause(full_run, sandbox, tmp_path):
    wh, summary = full_run.copy_to(tmp_path), tmp_path / "summary.json"
    hold = "import duckdb, sys, time; c = duckdb.connect(sys.argv[1], read_only=True); print('open', flush=True); " \
           "time.sleep(120)"
    reader = subprocess.Popen([sys.executable, "-c", hold, str(wh)], stdout=subprocess.PIPE, text=True)
    try:
        assert reader.stdout.readline().strip() == "open"
        done = run_cli(["--warehouse", str(wh), "--summary-json", str(summary)], sandbox_env(sandbox, ALL, **END))
    finally:
        reader.kill()
        reader.wait()
    assert done.returncode == 1, done.stdout + done.stderr
    report = json.loads(summary.read_text())
    assert report["vendors"] == [] and "the warehouse is open in another process" in report["error"], report
    output = done.stdout + done.stderr
    assert output.count("the warehouse is open in another process") == 1, output  # said once, not per vendor
    assert "Traceback" not in output


def test_sigterm_cuts_a_retry_after_wait_short(fresh_sandbox, tmp_path):
    fresh_sandbox.set_faults(rate_429=1.0, storm_length=100, retry_after=600)
    wh = tmp_path / "wh.duckdb"
    runner = start_cli(["--vendors", ALL[0], "--warehouse", str(wh)], sandbox_env(fresh_sandbox, ALL[:1], **END))
    deadline = time.monotonic() + 120
    while not fresh_sandbox.control("GET", "faults")["counts"]["429"]:  # the first request met the 10-minute wait
        assert runner.poll() is None and time.monotonic() < deadline, "the run never met the Retry-After"
        time.sleep(0.05)
    time.sleep(0.5)  # into the wait (a signal before it stops the run all the same)
    runner.send_signal(signal.SIGTERM)
    output, _ = runner.communicate(timeout=20)
    assert runner.returncode == 143, output
    assert "interrupted" in output
