"""Webmarketer source against the sandbox: truth, idempotence, edited outlays, tokens, faults, bad credentials."""

from __future__ import annotations

import pytest
from dlt.pipeline.exceptions import PipelineStepFailed

from simulator.credentials import CREDENTIALS
from simulator.process import running_sandbox
from sources.webmarketer import webmarketer_source
from tests.conftest import TEST_SCALE, TEST_SEED
from tests.warehouse import committed_state, count, run_cli, sandbox_env, snapshot
from warehouse import LOADER_FILE_FORMAT, make_pipeline

CREDS = CREDENTIALS["webmarketer"]
TABLES = ("projects", "event_types", "events", "trashed_events", "campaigns", "outlays")


def load(sandbox, warehouse, **overrides):
    pipeline = make_pipeline("webmarketer", warehouse)
    source = webmarketer_source(base_url=sandbox.vendor_url("webmarketer"), initial_start="2026-09-01T00:00:00Z",
                                end_time="2026-11-10T00:00:00Z", **{**CREDS, **overrides})
    pipeline.run(source, loader_file_format=LOADER_FILE_FORMAT)
    info = pipeline.last_trace.last_normalize_info
    return pipeline, {t: n for t, n in info.row_counts.items() if not t.startswith("_") and n}


def test_full_load_rerun_advance_and_edited_outlays(fresh_sandbox, tmp_path):
    sb, wh = fresh_sandbox, tmp_path / "wh.duckdb"
    load(sb, wh)
    truth = sb.truth()["webmarketer"]
    for table in TABLES:
        assert count(wh, f"select count(*) from webmarketer.{table}") == truth[table], table
    _, again = load(sb, wh)
    assert not set(again) & {"events", "trashed_events", "outlays"}, again

    before = {row[0]: row for row in _outlays(wh)}
    sb.advance(24 * 5)
    _, delta = load(sb, wh)
    truth = sb.truth()["webmarketer"]
    for table in TABLES:
        assert count(wh, f"select count(*) from webmarketer.{table}") == truth[table], table
    after = {row[0]: row for row in _outlays(wh)}
    edited = [k for k in before if before[k][1] != after[k][1]]
    assert edited, "five days should bring edits to earlier outlays"
    assert all(after[k][2] > before[k][2] for k in edited)  # updated_at moved with the edit
    assert delta["outlays"] == len(set(after) - set(before)) + len(edited)
    fresh = tmp_path / "fresh.duckdb"
    load(sb, fresh)
    assert snapshot(wh, "webmarketer") == snapshot(fresh, "webmarketer")  # edits replaced, never duplicated
    refunded = count(wh, "select count(*) from webmarketer.events where refund_at is not null")
    assert refunded == count(fresh, "select count(*) from webmarketer.events__metrics where key = 'refund'")


def _outlays(warehouse):
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute("select id, amount, updated_at from webmarketer.outlays").fetchall()


def test_trash_error_details_are_queryable(sandbox, tmp_path):
    wh = tmp_path / "wh.duckdb"
    load(sandbox, wh)
    assert count(wh, "select count(*) from webmarketer.trashed_events t join webmarketer.trashed_events__errors e "
                     "on e._dlt_parent_id = t._dlt_id where e.error_type is not null "
                     "and e.field_storage_key is not null") == sandbox.truth()["webmarketer"]["trashed_events"]
    assert count(wh, "select count(distinct error_type) from webmarketer.trashed_events__errors") >= 2


def test_faults_and_expiring_tokens_leave_the_same_tables(tmp_path):
    with running_sandbox(seed=TEST_SEED, scale=TEST_SCALE) as clean:
        load(clean, tmp_path / "clean.duckdb")
    with running_sandbox(seed=TEST_SEED, scale=TEST_SCALE) as faulty:
        faulty.set_faults(rate_5xx=0.10, rate_drop=0.08, rate_429=0.02, storm_length=2, retry_after=1,
                          token_ttl_s=0.5)
        load(faulty, tmp_path / "faulty.duckdb")
        counts = faulty.control("GET", "faults")["counts"]
    assert counts["5xx"] and counts["drop"]
    assert snapshot(tmp_path / "faulty.duckdb", "webmarketer") == snapshot(tmp_path / "clean.duckdb", "webmarketer")


def test_revoked_token_is_refreshed_transparently(fresh_sandbox):
    from sources.webmarketer import helpers

    client = helpers.make_client(fresh_sandbox.vendor_url("webmarketer"), CREDS["client_id"], CREDS["client_secret"],
                                 "/oauth/token")
    with client:
        assert client.get_json("/api/v1/agents/me/projects")["total"] == 3
        fresh_sandbox.control("POST", "tokens/expire")  # every issued token now answers 401
        assert client.get_json("/api/v1/agents/me/projects")["total"] == 3
        assert client.retries == 0  # refreshed inside the auth flow, not by a retry


def test_bad_credentials_fail_clearly_and_leave_state(sandbox, tmp_path):
    wh = tmp_path / "wh.duckdb"
    pipeline, _ = load(sandbox, wh)
    state = committed_state(pipeline)
    with pytest.raises(PipelineStepFailed) as failure:
        load(sandbox, wh, client_secret="wrong-secret-9")
    message = str(failure.value)
    assert "Webmarketer" in message and "HTTP 401" in message and "wrong-secret-9" not in message
    assert committed_state(pipeline) == state
    env = sandbox_env(sandbox, ["webmarketer"], SOURCES__WEBMARKETER__CLIENT_SECRET="wrong-secret-9")
    done = run_cli(["--vendors", "webmarketer", "--warehouse", str(wh), "--no-transform"], env)
    assert done.returncode == 1 and "Webmarketer" in done.stdout and "wrong-secret-9" not in done.stdout + done.stderr
