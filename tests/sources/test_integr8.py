"""Integr8 source against the sandbox: truth, idempotence, status changes, both paths equal, faults, bad key."""

from __future__ import annotations

import csv
import io
import logging
import zipfile
from collections.abc import Callable
from types import SimpleNamespace

import pytest
from dlt.pipeline.exceptions import PipelineStepFailed

from simulator.credentials import CREDENTIALS
from simulator.process import running_sandbox
from sources.integr8 import integr8_source, settings
from tests.conftest import TEST_SCALE, TEST_SEED
from tests.proxy import Exchange, running_proxy
from tests.warehouse import committed_state, count, count_current, run_cli, sandbox_env, snapshot
from warehouse import LOADER_FILE_FORMAT, make_pipeline

KEY = CREDENTIALS["integr8"]["api_key"]
INTEGRATIONS = ["int-surf-7f3a", "int-alpine-91c2", "int-outback-44d8"]
EVENTS = ("clicks", "conversions", "impressions", "postback_logs")


def load(sandbox, warehouse, api_key: str = KEY, end_time: str = "2026-11-10T00:00:00Z", **kwargs):
    pipeline = make_pipeline("integr8", warehouse)
    source = integr8_source(base_url=sandbox.vendor_url("integr8"), api_key=api_key, integration_ids=INTEGRATIONS,
                            initial_start="2026-09-01T00:00:00Z", end_time=end_time, **kwargs)
    pipeline.run(source, loader_file_format=LOADER_FILE_FORMAT)
    info = pipeline.last_trace.last_normalize_info
    return pipeline, {t: n for t, n in info.row_counts.items() if not t.startswith("_") and n}


def test_full_load_rerun_and_advance_with_status_changes(fresh_sandbox, tmp_path):
    sb, wh = fresh_sandbox, tmp_path / "wh.duckdb"
    _, loaded = load(sb, wh)
    truth = sb.truth()["integr8"]
    for table in (*EVENTS, "advertisers", "offers", "publishers"):
        assert count_current(wh, "integr8", table) == truth[table], table
    assert set(loaded) >= set(EVENTS)

    _, again = load(sb, wh)
    assert not set(again) & set(EVENTS), again

    before = snapshot(wh, "integr8")
    processing_before = count_current(wh, "integr8", "conversions", "status = 'processing'")
    sb.advance(24 * 3)
    _, delta = load(sb, wh)
    truth = sb.truth()["integr8"]
    for table in EVENTS:
        assert count_current(wh, "integr8", table) == truth[table], table
    # The logs hold each version once: the first load's rows and what the advance passed on, nothing else.
    logs = snapshot(wh, "integr8", logs=True)
    assert len(logs["conversions"]) == len(before["conversions"]) + delta["conversions"]
    assert len(logs["clicks"]) == len(before["clicks"]) + delta.get("clicks", 0)
    # Exactly the new and the changed conversions arrived, and an independent full load agrees.
    fresh = tmp_path / "fresh.duckdb"
    load(sb, fresh)
    after = snapshot(fresh, "integr8")
    assert snapshot(wh, "integr8") == after
    changed_or_new = set(after["conversions"]) - set(before["conversions"])
    assert delta["conversions"] == len(changed_or_new)
    assert processing_before > 0
    settled = "conversion_time < timestamp '2026-10-13'"
    decided = count_current(wh, "integr8", "conversions", f"status in ('approved', 'rejected') and {settled}")
    assert decided == count_current(wh, "integr8", "conversions", settled)
    assert count_current(wh, "integr8", "conversions", "status = 'rejected' and rejection_reason is null") == 0


@pytest.mark.parametrize("timezone", ["UTC", "America/New_York"])
def test_export_and_report_paths_give_identical_tables(sandbox, tmp_path, timezone):
    window = {"end_time": "2026-10-20T00:00:00Z", "timezone": timezone}
    load(sandbox, tmp_path / "export.duckdb", export_threshold_hours=0, **window)
    load(sandbox, tmp_path / "report.duckdb", export_threshold_hours=10**6, window_hours=24 * 7, **window)
    exported = snapshot(tmp_path / "export.duckdb", "integr8")
    reported = snapshot(tmp_path / "report.duckdb", "integr8")
    assert exported == reported
    assert len(exported["clicks"]) > 100
    if timezone != "UTC":  # times are stored in UTC whatever zone was requested
        load(sandbox, tmp_path / "utc.duckdb", export_threshold_hours=0, end_time=window["end_time"])
        assert snapshot(tmp_path / "utc.duckdb", "integr8") == exported


class Recorded(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_the_tables_keep_their_nullable_cursor_and_dlt_warns_of_no_hint(sandbox, tmp_path):
    """The batches reach dlt's incremental with their cursor marked not nullable (sources.common.incremental,
    `with_cursor_required`), and leave it nullable again: a warehouse made before keeps the schema it has, and
    no run warns that Arrow's schema differs from the hints."""
    recorded, dlt_logger = Recorded(), logging.getLogger("dlt")  # dlt's logger does not propagate
    dlt_logger.addHandler(recorded)
    try:
        pipeline, _ = load(sandbox, tmp_path / "export.duckdb", export_threshold_hours=0,
                           end_time="2026-10-20T00:00:00Z")
    finally:
        dlt_logger.removeHandler(recorded)
    assert not [message for message in recorded.messages if "hints were different" in message]
    for table, spec in settings.TABLES.items():
        for name in (table, f"_fingerprints_{table}"):
            assert pipeline.default_schema.get_table(name)["columns"][spec.cursor].get("nullable", True), name
    assert count(tmp_path / "export.duckdb", "select count(*) from information_schema.columns where table_schema = "
                 "'integr8' and column_name in ('click_time', 'conversion_time') and is_nullable = 'NO'") == 0


def test_faults_leave_the_same_tables_as_a_clean_run(tmp_path):
    settings = {"end_time": "2026-10-20T00:00:00Z", "window_hours": 24 * 5, "export_threshold_hours": 24 * 10}
    with running_sandbox(seed=TEST_SEED, scale=TEST_SCALE) as clean:
        load(clean, tmp_path / "clean.duckdb", **settings)
        clean.advance(24)
        load(clean, tmp_path / "clean.duckdb", **settings)
    with running_sandbox(seed=TEST_SEED, scale=TEST_SCALE) as faulty:
        faulty.set_faults(rate_5xx=0.10, rate_drop=0.03, rate_429=0.02, storm_length=2, retry_after=1,
                          failed_exports=3, expired_urls=2)
        load(faulty, tmp_path / "faulty.duckdb", **settings)
        faulty.advance(24)
        load(faulty, tmp_path / "faulty.duckdb", **settings)
        counts = faulty.control("GET", "faults")["counts"]
    assert counts["5xx"] and counts["drop"] and counts["429"]
    assert counts["expired_urls"] == 2 and counts["failed_exports"] == 3
    assert snapshot(tmp_path / "faulty.duckdb", "integr8") == snapshot(tmp_path / "clean.duckdb", "integr8")


def test_bad_key_is_clear_and_leaves_state_untouched(sandbox, tmp_path):
    wh = tmp_path / "wh.duckdb"
    pipeline, _ = load(sandbox, wh)
    state = committed_state(pipeline)
    with pytest.raises(PipelineStepFailed) as failure:
        load(sandbox, wh, api_key="nope-nope")
    assert "Integr8" in str(failure.value) and "HTTP 401" in str(failure.value)
    assert committed_state(pipeline) == state
    env = sandbox_env(sandbox, ["integr8"], SOURCES__INTEGR8__API_KEY="nope-nope")
    done = run_cli(["--vendors", "integr8", "--warehouse", str(wh), "--no-transform"], env)
    assert done.returncode == 1 and "Integr8" in done.stdout and "HTTP 401" in done.stdout
    assert "nope-nope" not in done.stdout + done.stderr


# A conversion's absurd time (its year, or None) -> how its rejection reads. None at all: dlt's incremental stopped
# the whole vendor on it before.
MISDATED = {
    "2099": "raw_value like '%2099%' and reason like 'outside the window read%'",
    None: "raw_value is null and reason = 'missing a required value'",
}


def test_events_at_absurd_times_are_rejected_from_the_arrow_path_and_load_once_fixed(fresh_sandbox, tmp_path):
    """Integr8's rows are typed as Arrow: the cursor is checked there too (the 2099 conversion would otherwise be
    the high-water mark, and every later one unread). Both kinds in the same load, each with its own reason."""
    spoiled: dict[str, str | None] = {}  # real_tx_id -> the year it is given
    state = {"on": True}

    def misdate(exchange: Exchange) -> None:
        if state["on"] and "conversion-table" in exchange.path and exchange.status == 200:
            body = exchange.json()
            for row in body["data"]["data"]:
                if row["real_tx_id"] not in spoiled and len(spoiled) < len(MISDATED):
                    spoiled[row["real_tx_id"]] = list(MISDATED)[len(spoiled)]
                if row["real_tx_id"] in spoiled:
                    year = spoiled[row["real_tx_id"]]
                    row["conversion_time"] = year and year + row["conversion_time"][4:]
            exchange.set_json(body)

    wh = tmp_path / "wh.duckdb"
    with running_proxy(fresh_sandbox.vendor_url("integr8"), misdate) as vendor:
        proxied = SimpleNamespace(vendor_url=lambda _: vendor.url)
        load(proxied, wh, export_threshold_hours=10**6, window_hours=24 * 7)
        truth = fresh_sandbox.truth()["integr8"]["conversions"]
        assert len(spoiled) == len(MISDATED)
        assert count_current(wh, "integr8", "conversions") == truth - len(MISDATED)
        for year, rejection in MISDATED.items():
            assert count(wh, "select count(*) from integr8.rejected_records where column_name = 'conversion_time' "
                             f"and {rejection}") == 1, year
        state["on"] = False
        fresh_sandbox.advance(72)
        load(proxied, wh, export_threshold_hours=10**6, window_hours=24 * 7)
    assert count_current(wh, "integr8", "conversions") == fresh_sandbox.truth()["integr8"]["conversions"] > truth
    assert count(wh, "select count(*) from integr8.rejected_records") == 0


def revenue_as_text_in_reports(exchange: Exchange) -> None:
    if "conversion-table" in exchange.path and exchange.status == 200:
        body = exchange.json()
        for row in body["data"]["data"][:1]:
            row["revenue"] = "0.0"  # a type change: the documented number arrives as text
        exchange.set_json(body)


def exports_rewritten(proxy_url: str, sandbox_url: str, change: Callable[[list[list[str]]], list[list[str]] | None]
                      ) -> Callable[[Exchange], None]:
    """A proxy rewrite that sends each export's signed URL through the proxy too, and rewrites the CSV rows of
    every archive downloaded with `change` (which returns the new rows, or None to leave the archive)."""

    def rewrite(exchange: Exchange) -> None:
        if exchange.path.endswith("/downloadcenter-artifact-url") and exchange.status == 200:
            body = exchange.json()
            body["url"] = body["url"].replace(sandbox_url, proxy_url)
            exchange.set_json(body)
        elif exchange.path.startswith("/_artifacts/") and exchange.status == 200:
            with zipfile.ZipFile(io.BytesIO(exchange.body)) as zf:
                name = zf.namelist()[0]
                rows = change(list(csv.reader(io.StringIO(zf.read(name).decode()))))
            if rows is None:
                return
            text = io.StringIO()
            csv.writer(text).writerows(rows)
            out = io.BytesIO()
            with zipfile.ZipFile(out, "w") as zf:
                zf.writestr(name, text.getvalue())
            exchange.body = out.getvalue()

    return rewrite


def revenue_as_text_in_exports(proxy_url: str, sandbox_url: str) -> Callable[[Exchange], None]:
    def spoil(rows: list[list[str]]) -> list[list[str]] | None:
        if "conversion_time" not in rows[0] or len(rows) < 2:
            return None
        rows[1][rows[0].index("revenue")] = "0.0x"
        return rows

    return exports_rewritten(proxy_url, sandbox_url, spoil)


@pytest.mark.parametrize("path", ["reports", "exports"])
def test_a_value_of_the_wrong_type_fails_naming_table_column_and_value(fresh_sandbox, tmp_path, path):
    url = fresh_sandbox.vendor_url("integr8")
    with running_proxy(url) as vendor:
        vendor.rewrite = (revenue_as_text_in_reports if path == "reports"
                          else revenue_as_text_in_exports(vendor.url, url))
        proxied = SimpleNamespace(vendor_url=lambda _: vendor.url)
        settings = {"export_threshold_hours": 10**6, "window_hours": 24 * 7} if path == "reports" else \
            {"export_threshold_hours": 0}
        with pytest.raises(PipelineStepFailed) as failure:
            load(proxied, tmp_path / "wh.duckdb", **settings)
    message = str(failure.value)
    assert "Integr8" in message and "column conversions.revenue" in message, message
    assert "0.0" in message


def damage_downloads(times: int) -> tuple[Callable[[Exchange], None], list[str]]:
    """A rewrite that flips a byte in the middle of the first `times` archives downloaded (all of them when
    the same archive is fetched again); and the artifact paths fetched."""
    fetched: list[str] = []

    def rewrite(exchange: Exchange) -> None:
        if exchange.path.startswith("/_artifacts/") and exchange.status == 200:
            fetched.append(exchange.path)
            if len(fetched) <= times:
                body = bytearray(exchange.body)
                body[len(body) // 2] ^= 0xFF
                exchange.body = bytes(body)

    return rewrite, fetched


def through_proxy_exports(sandbox, vendor, rewrite) -> SimpleNamespace:
    url = sandbox.vendor_url("integr8")

    def both(exchange: Exchange) -> None:
        if exchange.path.endswith("/downloadcenter-artifact-url") and exchange.status == 200:
            body = exchange.json()
            body["url"] = body["url"].replace(url, vendor.url)
            exchange.set_json(body)
        rewrite(exchange)

    vendor.rewrite = both
    return SimpleNamespace(vendor_url=lambda _: vendor.url)


def test_a_damaged_archive_is_downloaded_again(sandbox, tmp_path):
    rewrite, fetched = damage_downloads(times=1)
    with running_proxy(sandbox.vendor_url("integr8")) as vendor:
        load(through_proxy_exports(sandbox, vendor, rewrite), tmp_path / "wh.duckdb", export_threshold_hours=0)
    assert fetched.count(fetched[0]) == 2  # the damaged one, fetched once more (tables download side by side)
    assert snapshot(tmp_path / "wh.duckdb", "integr8") == snapshot(full_load(sandbox, tmp_path), "integr8")


def full_load(sandbox, tmp_path):
    load(sandbox, tmp_path / "clean.duckdb", export_threshold_hours=0)
    return tmp_path / "clean.duckdb"


def test_an_archive_damaged_twice_fails_naming_it(sandbox, tmp_path):
    rewrite, _ = damage_downloads(times=100)
    with running_proxy(sandbox.vendor_url("integr8")) as vendor, pytest.raises(PipelineStepFailed) as failure:
        load(through_proxy_exports(sandbox, vendor, rewrite), tmp_path / "wh.duckdb", export_threshold_hours=0)
    assert "Integr8: Download Center" in str(failure.value) and "archive is damaged" in str(failure.value)


@pytest.mark.parametrize(("limit", "words"), [({"max_export_rows": 10}, "past max_export_rows (10)"),
                                              ({"max_export_mb": 0}, "expands past 0 MB; raise max_export_mb")])
def test_an_export_past_its_limits_fails_before_it_takes_the_memory(sandbox, tmp_path, limit, words):
    with pytest.raises(PipelineStepFailed) as failure:
        load(sandbox, tmp_path / "wh.duckdb", export_threshold_hours=0, **limit)
    assert "Integr8" in str(failure.value) and words in str(failure.value), str(failure.value)
