"""ClickMagick source against the sandbox: truth counts, idempotent re-runs, advances, faults, bad keys. Runs killed
midway: every vendor's at three moments in tests/pipelines/test_runner.py, at each step in test_kill_points.py."""

from __future__ import annotations

import time

import pytest
from dlt.pipeline.exceptions import PipelineStepFailed

from simulator.credentials import CREDENTIALS
from simulator.process import running_sandbox
from sources.clickmagick import clickmagick_source, helpers
from sources.common.times import utc
from tests.conftest import TEST_SCALE, TEST_SEED
from tests.proxy import running_proxy
from tests.warehouse import committed_state, count, run_cli, sandbox_env, snapshot
from vendor_http import VendorError
from warehouse import LOADER_FILE_FORMAT, make_pipeline

KEY = CREDENTIALS["clickmagick"]["api_key"]
START = "2026-09-01T00:00:00Z"
END = "2026-11-10T00:00:00Z"  # past the sandbox clock even after advances; fewer empty windows than "now"
KINDS = ("sales", "actions", "engagements")


def load(sandbox, warehouse, api_key: str = KEY, **kwargs):
    pipeline = make_pipeline("clickmagick", warehouse)
    source = clickmagick_source(base_url=sandbox.vendor_url("clickmagick"), api_key=api_key, initial_start=START,
                                end_time=END, **kwargs)
    pipeline.run(source, loader_file_format=LOADER_FILE_FORMAT)
    info = pipeline.last_trace.last_normalize_info
    return pipeline, {t: n for t, n in info.row_counts.items() if not t.startswith("_") and n}


def cm_sales_status(truth_lines):
    return {line["order_ref"]: line["status"] for line in truth_lines
            if "clickmagick" in line["vendors"] and line["type"] == "sale"}


def test_full_load_noop_rerun_and_advance(fresh_sandbox, tmp_path):
    sb, wh = fresh_sandbox, tmp_path / "wh.duckdb"
    _, loaded = load(sb, wh)
    truth = sb.truth()["clickmagick"]
    for kind in KINDS:
        assert loaded[kind] == truth[kind]
        assert count(wh, f"select count(*) from clickmagick.{kind}") == truth[kind]
    assert count(wh, "select count(*) from clickmagick.projects") == truth["projects"]
    # Every model's credits sum to one for every conversion with tracked clicks.
    assert count(wh, "select count(*) from (select conversion_id, attribution_model, sum(share) s "
                     "from clickmagick.sales__credits group by all) where abs(s - 1) > 1e-9") == 0
    assert count(wh, "select count(distinct attribution_model) from clickmagick.sales__credits") == 5

    # The stats reports: clicks and Auto Cost by day add up to the report's totals, per project.
    assert count(wh, "select count(*) from clickmagick.stats_reach where dimension = 'all'") == truth["projects"]
    assert count(wh, "select count(*) from (select r.project_id from clickmagick.stats_reach r "
                     "join clickmagick.stats_days d using (project_id) where r.dimension = 'all' "
                     "group by r.project_id, r.clicks having sum(d.clicks) != r.clicks)") == 0

    _, again = load(sb, wh)
    assert not set(again) & {*KINDS, *(f"{k}__credits" for k in KINDS), "stats_days", "stats_reach"}, again

    before = cm_sales_status(sb.control("GET", "truth/conversions"))
    sb.advance(24 * 5)
    after = cm_sales_status(sb.control("GET", "truth/conversions"))
    new = set(after) - set(before)
    refunded = {ref for ref in before if before[ref] != "refunded" and after[ref] == "refunded"}
    assert new and refunded
    _, delta = load(sb, wh)
    assert delta["sales"] == len(new) + len(refunded)
    assert delta["stats_days"] and delta["stats_reach"]  # five more days of clicks
    truth = sb.truth()["clickmagick"]
    for kind in KINDS:
        assert count(wh, f"select count(*) from clickmagick.{kind}") == truth[kind]
    in_table = count(wh, "select count(*) from clickmagick.sales where status = 'refunded'")
    assert in_table == sum(1 for status in after.values() if status == "refunded")


def test_a_rerun_lists_one_model_and_the_others_only_where_records_changed(fresh_sandbox, tmp_path):
    """ClickMagick meters work: re-reading the lookback with every model would cost a listing per model and
    window on every run."""
    sb, wh = fresh_sandbox, tmp_path / "wh.duckdb"
    models = ("first_click", "linear")

    def listed(seen) -> dict[str, int]:  # listings per model
        paths = [e.path.split("/") for e in seen if e.path.startswith("/v1/campaigns/") and e.path.count("/") == 4]
        return {model: sum(1 for p in paths if p[3] in KINDS and p[4] == model) for model in models}

    def incomplete() -> int:  # conversions with linear credits and none of first_click
        return sum(count(wh, f"select count(*) from (select conversion_id from clickmagick.{kind}__credits "
                             "group by all having count(distinct attribution_model) != 2)") for kind in KINDS)

    with running_proxy(sb.vendor_url("clickmagick")) as vendor:
        def load_through_proxy():
            vendor.seen.clear()
            pipeline = make_pipeline("clickmagick", wh)
            pipeline.run(clickmagick_source(base_url=vendor.url, api_key=KEY, initial_start=START, end_time=END,
                                            attribution_models=models, stats=False),
                         loader_file_format=LOADER_FILE_FORMAT)
            info = pipeline.last_trace.last_normalize_info
            return listed(vendor.seen), {t: n for t, n in info.row_counts.items() if not t.startswith("_") and n}

        first, _ = load_through_proxy()
        assert 0 < first["first_click"] <= first["linear"], first  # windows without records need no more
        assert incomplete() == 0

        noop, loaded = load_through_proxy()
        assert not set(loaded) & set(KINDS), loaded
        assert noop == {"first_click": 0, "linear": noop["linear"]} and noop["linear"] > 0, noop

        sb.advance(24 * 5)
        delta, loaded = load_through_proxy()
        assert loaded["sales"] and loaded["sales__credits"]
        assert 0 < delta["first_click"] <= delta["linear"], delta
    assert incomplete() == 0  # a refunded or new conversion still carries every model's credits
    truth = sb.truth()["clickmagick"]
    for kind in KINDS:
        assert count(wh, f"select count(*) from clickmagick.{kind}") == truth[kind]


def test_faults_leave_the_same_tables_as_a_clean_run(tmp_path):
    settings = {"window_hours": 72, "attribution_models": ["first_click", "linear"]}
    with running_sandbox(seed=TEST_SEED, scale=TEST_SCALE) as clean:
        load(clean, tmp_path / "clean.duckdb", **settings)
    with running_sandbox(seed=TEST_SEED, scale=TEST_SCALE) as faulty:
        faulty.set_faults(rate_5xx=0.10, rate_drop=0.03, rate_429=0.02, storm_length=2, retry_after=1)
        load(faulty, tmp_path / "faulty.duckdb", **settings)
        counts = faulty.control("GET", "faults")["counts"]
    assert counts["5xx"] and counts["drop"] and counts["429"]
    assert snapshot(tmp_path / "faulty.duckdb", "clickmagick") == snapshot(tmp_path / "clean.duckdb", "clickmagick")


def test_a_stats_report_that_never_finishes_is_an_error_naming_vendor_and_endpoint(sandbox):
    client = helpers.make_client(sandbox.vendor_url("clickmagick"), KEY)
    with pytest.raises(VendorError, match=r"ClickMagick.*GET projects/stats/reports.*not ready after"):
        report_id = helpers.create_stats_report(client, 29583, utc(START), utc(END), refresh=True)
        helpers.read_stats_report(client, report_id, timeout_s=0.3)


def test_bad_key_fails_fast_and_leaves_state_untouched(sandbox, tmp_path):
    wh = tmp_path / "wh.duckdb"
    pipeline, _ = load(sandbox, wh)
    state_before = committed_state(pipeline)
    tables_before = snapshot(wh, "clickmagick")
    started = time.monotonic()
    with pytest.raises(PipelineStepFailed) as failure:
        load(sandbox, wh, api_key="not-the-key")
    assert time.monotonic() - started < 10  # 401 is not retried
    message = str(failure.value)
    assert "ClickMagick" in message and "HTTP 401" in message and "not-the-key" not in message
    assert committed_state(pipeline) == state_before
    assert snapshot(wh, "clickmagick") == tables_before


def test_bad_key_exits_non_zero_from_the_runner(sandbox, tmp_path):
    env = sandbox_env(sandbox, ["clickmagick"], SOURCES__CLICKMAGICK__API_KEY="wrong-key-123")
    done = run_cli(["--vendors", "clickmagick", "--warehouse", str(tmp_path / "wh.duckdb"), "--no-transform"], env)
    assert done.returncode == 1
    assert "ClickMagick" in done.stdout and "HTTP 401" in done.stdout
    assert "wrong-key-123" not in done.stdout + done.stderr
