"""Reverse ETL against the sandbox's Improvely and ConvertLoop: the vendors end up holding exactly the
outboxes, a second run sends nothing, new and changed rows go out after the world moves on, faults change
nothing, and bad credentials fail one destination without marking anything sent."""

from __future__ import annotations

import shutil

from tests.pushed import ALL, assert_vendors_hold_the_outboxes, rows, segments, summary_of
from tests.warehouse import run_cli, sandbox_env


def test_first_push_holds_the_outboxes_a_rerun_sends_nothing_and_changes_go_out(full_run, fresh_sandbox, tmp_path):
    # The full run's world is the fresh sandbox's before it advances: a run with nothing new, then the first push.
    warehouse, summary = full_run.copy_to(tmp_path), tmp_path / "summary.json"
    env = sandbox_env(fresh_sandbox, ALL, push=True)
    first = run_cli(["--warehouse", str(warehouse), "--summary-json", str(summary)], env)
    assert first.returncode == 0, first.stdout + first.stderr
    assert_vendors_hold_the_outboxes(fresh_sandbox, warehouse)
    pushed = summary_of(summary)
    assert pushed["improvely"]["sent"] == len(fresh_sandbox.control("GET", "received")["improvely"]["conversion"])
    assert all(d["status"] == "pushed" and d["rejected"] == 0 for d in pushed.values())
    skipped = rows(warehouse, "select skip_reason, count(*) as n from outbox.outbox_improvely__conversions "
                              "where skip_reason is not null group by all")
    assert {f"conversions: {r['skip_reason']}": r["n"] for r in skipped} == pushed["improvely"]["skipped"]

    again = run_cli(["--warehouse", str(warehouse), "--summary-json", str(summary), "--push-only"], env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert {name: d["sent"] for name, d in summary_of(summary).items()} == {"improvely": 0, "convertloop": 0}

    people_before = segments(warehouse)
    fresh_sandbox.advance(24 * 10)  # new orders, refunds, people whose top channel moves
    later = run_cli(["--warehouse", str(warehouse), "--summary-json", str(summary)], env)
    assert later.returncode == 0, later.stdout + later.stderr
    assert_vendors_hold_the_outboxes(fresh_sandbox, warehouse)
    refunds = rows(warehouse, "select * from outbox.outbox_improvely__conversions where kind = 'refund' "
                              "and skip_reason is null")
    assert refunds, "the advance should bring refunds"
    people_after = segments(warehouse)
    moved = [k for k in people_before if k in people_after and people_before[k] != people_after[k]]
    assert moved, "the advance should move someone to another segment"
    sent = summary_of(summary)
    assert 0 < sent["improvely"]["sent"] < len(rows(warehouse, "select * from outbox.outbox_improvely__conversions"))


def test_bad_credentials_fail_that_destination_and_mark_nothing_sent(full_run, sandbox, tmp_path):
    warehouse, summary = tmp_path / "wh.duckdb", tmp_path / "summary.json"
    shutil.copy(full_run.warehouse, warehouse)
    env = sandbox_env(sandbox, ALL, push=True, DESTINATIONS__IMPROVELY__API_KEY="not-the-key",
                      DESTINATIONS__CONVERTLOOP__API_KEY="not-the-key")
    done = run_cli(["--warehouse", str(warehouse), "--summary-json", str(summary), "--push-only"], env)
    assert done.returncode == 3, done.stdout + done.stderr
    pushed = summary_of(summary)
    assert all(d["status"] == "failed" and d["sent"] == 0 for d in pushed.values()), pushed
    assert pushed["convertloop"]["error"].startswith("convertloop: POST /v1/people failed (HTTP 401)")
    assert pushed["improvely"]["error"].startswith("improvely: POST /v1/conversion.json failed (HTTP 400)")
    assert "authentication: Invalid API key" in pushed["improvely"]["error"]
    assert "not-the-key" not in done.stdout + done.stderr
    assert rows(warehouse, "select count(*) as n from reverse_etl.ledger") == [{"n": 0}]
    assert rows(warehouse, "select count(*) as n from reverse_etl.rejects") == [{"n": 0}]


def test_a_dry_run_prints_what_would_be_sent_and_sends_nothing(full_run, fresh_sandbox, tmp_path):
    warehouse, summary = tmp_path / "wh.duckdb", tmp_path / "summary.json"
    shutil.copy(full_run.warehouse, warehouse)
    done = run_cli(["--warehouse", str(warehouse), "--push-only", "--dry-run", "--summary-json", str(summary)],
                   sandbox_env(fresh_sandbox, ALL, push=True))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "would send {" in done.stdout
    sendable = rows(warehouse, "select count(*) as n from outbox.outbox_improvely__conversions "
                               "where skip_reason is null")
    assert summary_of(summary)["improvely"]["status"] == "dry-run"
    assert summary_of(summary)["improvely"]["sent"] == sendable[0]["n"] > 0
    assert f"would send {sendable[0]['n']:,}, unchanged" in done.stdout  # not "sent": no call was made
    assert fresh_sandbox.control("GET", "received") == {}
    assert rows(warehouse, "select count(*) as n from duckdb_tables() where schema_name = 'reverse_etl'") == [{"n": 0}]


def test_a_dry_run_is_a_push_preview_only(tmp_path):
    """Without --push-only, --dry-run would load, build and publish for real: refused before anything runs."""
    done = run_cli(["--warehouse", str(tmp_path / "wh.duckdb"), "--dry-run"], {})
    assert done.returncode == 2 and "--dry-run previews a push: use it with --push-only" in done.stderr
    assert list(tmp_path.iterdir()) == []
