"""Documented column types are a contract: a value that does not fit is set aside in `rejected_records` with
its raw value and reason (never NULL beside a variant column), counted in the summary, and loaded once the
vendor sends a value that fits: the next run reads back to where the rejected records were listed. A cursor
outside the window read (a sale in 2099 or 1900) is rejected the same way and never moves the high-water mark."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

import duckdb
import pyarrow as pa

from dlt_adapter import Pipeline
from pipelines.registry import SOURCES
from simulator.credentials import CREDENTIALS
from sources.clickmagick import clickmagick_source
from sources.common.contract import AMOUNT, AMOUNT_LIMIT, REJECTS_TABLE, Contract, violations
from sources.common.times import utc
from tests.proxy import Exchange, running_proxy
from tests.warehouse import END_TIME, PINNED_END, count, run_cli, sandbox_env, stored_tables
from warehouse import LOADER_FILE_FORMAT, make_pipeline

KEY = CREDENTIALS["clickmagick"]["api_key"]
# One model: fewer calls through the proxy.
END = {**PINNED_END, "SOURCES__CLICKMAGICK__ATTRIBUTION_MODELS": '["linear"]'}


def sales_rewrite(state: dict, change: Callable[[dict], None]) -> Callable[[Exchange], None]:
    """A proxy rewrite that applies `change` to every ClickMagick sale listed while `state["on"]`."""

    def rewrite(exchange: Exchange) -> None:
        if state["on"] and exchange.path.startswith("/v1/campaigns/sales") and exchange.status == 200:
            body = exchange.json()
            for sale in body["sales"]:
                change(sale)
            exchange.set_json(body)

    return rewrite


def test_a_value_that_does_not_fit_is_rejected_then_loaded_when_it_fits(sandbox, tmp_path):
    broken: set[int] = set()
    state = {"on": True}

    def spoil_amount(sale: dict) -> None:
        if sale["id"] % 5 == 0:
            sale["amt"] = "twelve"
            broken.add(sale["id"])

    spoil_amounts = sales_rewrite(state, spoil_amount)

    wh, summary = tmp_path / "wh.duckdb", tmp_path / "summary.json"
    with running_proxy(sandbox.vendor_url("clickmagick"), spoil_amounts) as vendor:
        env = sandbox_env(sandbox, [], SOURCES__CLICKMAGICK__BASE_URL=vendor.url, **END)
        args = ["--vendors", "clickmagick", "--warehouse", str(wh), "--no-transform", "--summary-json", str(summary)]
        first = run_cli(args, env)
        assert first.returncode == 0, first.stdout + first.stderr
        truth = sandbox.truth()["clickmagick"]["sales"]
        assert broken, "the proxy spoiled nothing"
        assert count(wh, "select count(*) from information_schema.columns where table_schema = 'clickmagick' "
                         "and column_name like 'amt\\_\\_%' escape '\\'") == 0  # no variant column
        assert count(wh, "select count(*) from clickmagick.sales") == truth - len(broken)
        assert count(wh, "select count(*) from clickmagick.sales where amt is null") == 0
        assert count(wh, "select count(*) from clickmagick.rejected_records where table_name = 'sales' and "
                         "column_name = 'amt' and raw_value = '\"twelve\"' and reason like 'cannot be read as double%'"
                     ) == len(broken)
        report = json.loads(summary.read_text())
        assert report["vendors"][0]["rejected"] == len(broken)
        assert f"{len(broken)} records rejected" in first.stdout
        with duckdb.connect(str(wh), read_only=True) as con:  # written by `sales`, still owned by its own resource
            assert stored_tables(con, "clickmagick")[REJECTS_TABLE]["resource"] == REJECTS_TABLE

        state["on"] = False  # the vendor recovers: the next run reads back to the rejected records, of any age
        second = run_cli(args, env)
        assert second.returncode == 0, second.stdout + second.stderr
    assert count(wh, "select count(*) from clickmagick.sales") == truth
    assert count(wh, "select count(*) from clickmagick.rejected_records") == 0
    assert json.loads(summary.read_text())["vendors"][0]["rejected"] == 0


# A sale's absurd time -> how its rejection reads. None at all, or no time: each stopped the whole vendor before
# (dlt's incremental; ClickMagick's row shaping).
MISDATED = {
    "2099-01-01T00:00:00Z": "raw_value like '%2099%' and reason like 'outside the window read%'",
    "1900-01-01T00:00:00Z": "raw_value like '%1900%' and reason like 'outside the window read%'",
    None: "raw_value is null and reason = 'missing a required value'",
    "the day before yesterday": "raw_value = '\"the day before yesterday\"' and reason like 'cannot be read as%'",
}


def test_sales_at_absurd_times_are_rejected_and_move_no_mark(fresh_sandbox, tmp_path):
    """Four sales, each at an absurd time of its own kind, in the same run (one run, not four: a run here costs
    ~8 s of a worker): each is rejected with its own reason, the other sales load, no mark moves to a time none
    of the data has; fixed by the vendor, all four load."""
    spoiled: dict[int, str | None] = {}  # sale id -> the time it is given
    state = {"on": True}

    def misdate(sale: dict) -> None:
        if sale["id"] not in spoiled and len(spoiled) < len(MISDATED):
            spoiled[sale["id"]] = list(MISDATED)[len(spoiled)]
        if sale["id"] in spoiled:
            sale["timestamp"] = spoiled[sale["id"]]

    misdate_four_sales = sales_rewrite(state, misdate)

    wh = tmp_path / "wh.duckdb"
    args = ["--vendors", "clickmagick", "--warehouse", str(wh), "--no-transform"]
    with running_proxy(fresh_sandbox.vendor_url("clickmagick"), misdate_four_sales) as vendor:
        env = sandbox_env(fresh_sandbox, [], SOURCES__CLICKMAGICK__BASE_URL=vendor.url, **END)
        first = run_cli(args, env)
        assert first.returncode == 0, first.stdout + first.stderr
        assert len(spoiled) == len(MISDATED) and f"{len(MISDATED)} records rejected" in first.stdout, first.stdout
        truth = fresh_sandbox.truth()["clickmagick"]["sales"]
        assert count(wh, "select count(*) from clickmagick.sales") == truth - len(MISDATED)
        for moment, rejection in MISDATED.items():
            assert count(wh, "select count(*) from clickmagick.rejected_records where column_name = 'timestamp' "
                             f"and {rejection}") == 1, moment
        assert count(wh, "select count(*) from clickmagick.rejected_records") == len(MISDATED)
        # nothing written for the sales carries their absurd times: the high-water mark stays where the data are
        assert count(wh, "select count(*) from clickmagick._fingerprints_sales where timestamp > now() + "
                         "interval 1 hour or timestamp < '2026-01-01'") == 0

        state["on"] = False  # the vendor fixes the sales, and three days of new sales come in
        fresh_sandbox.advance(72)
        second = run_cli(args, env)
        assert second.returncode == 0, second.stdout + second.stderr
    assert count(wh, "select count(*) from clickmagick.sales") == fresh_sandbox.truth()["clickmagick"]["sales"] > truth
    assert count(wh, "select count(*) from clickmagick.rejected_records") == 0


def test_rejected_records_has_one_owner_whichever_resource_reaches_it_first(full_run):
    # Several resources of a source write rejections, read side by side; dlt records in the table's schema the
    # resource that reached it first in each extract. Were that the first writer, the schema would change with
    # the order the vendor answered in, and a run with nothing new would load a new schema version.
    with duckdb.connect(str(full_run.warehouse), read_only=True) as con:
        owners = {vendor: stored_tables(con, vendor)[REJECTS_TABLE].get("resource") for vendor in SOURCES}
    assert owners == {vendor: REJECTS_TABLE for vendor in SOURCES}


def test_the_contract_checks_each_declared_type_and_nested_lists():
    columns = {"id": {"data_type": "bigint", "nullable": False}, "amt": {"data_type": "double"},
               "at": {"data_type": "timestamp"}, "ok": {"data_type": "bool"}, "name": {"data_type": "text"}}
    good = {"id": "12", "amt": "0.00", "at": "2026-10-01T00:00:00Z", "ok": "true", "name": 5}
    assert violations(good, columns) == []
    bad = {"id": 1.5, "amt": "NaN", "at": "yesterday", "ok": "maybe", "name": {"a": 1}}
    assert [v["column_name"] for v in violations(bad, columns)] == ["id", "amt", "at", "ok", "name"]
    assert violations({"amt": 1.0}, columns)[0]["reason"] == "missing a required value"

    state: dict = {}
    contract = Contract("sales", "id", "at", columns, {"credits": {"share": {"data_type": "double"}}}, state)
    rows = [{**good, "id": 1, "credits": [{"share": 0.5}, {"share": "half"}]}, {**good, "id": 2}]
    kept, rejected = contract.split(rows)
    assert [r["id"] for r in kept] == [2]
    assert [(r["record_id"], r["column_name"], r["resolved"]) for r in rejected] == [("1", "credits.share", False)]
    kept, resolved = contract.split([{**good, "id": 1, "credits": [{"share": 0.5}]}])
    assert [r["id"] for r in kept] == [1]
    assert [(r["record_id"], r["column_name"], r["resolved"]) for r in resolved] == [("1", "credits.share", True)]
    assert state == {"rejected": {}}


def test_an_amount_no_order_reaches_is_rejected_on_both_paths():
    """`amt: 1e308` loaded once made every sum it joined infinite, and failed every build after the vendor fixed
    it (outside the lookback). An amount past AMOUNT_LIMIT is rejected instead, like any value that does not fit."""
    columns = {"id": {"data_type": "bigint"}, "at": {"data_type": "timestamp"},
               "amt": {"data_type": "double", AMOUNT: True}, "rate": {"data_type": "double"}}
    rows = [{"id": 1, "at": "2026-10-01T00:00:00Z", "amt": 1e308, "rate": 1e308},
            {"id": 2, "at": "2026-10-01T00:00:00Z", "amt": -3.5e12, "rate": 1.0}]  # a large IDR refund is fine
    kept, rejected = Contract("sales", "id", "at", columns, {}, {}).split(rows)
    assert [r["id"] for r in kept] == [2]
    assert [(r["column_name"], r["reason"][:22]) for r in rejected] == [("amt", "cannot be read as doub")]
    assert "an amount past" in rejected[0]["reason"]

    table = pa.table({"id": [1, 2], "at": pa.array([datetime(2026, 10, 1, tzinfo=UTC)] * 2),
                      "amt": [1e308, -3.5e12], "rate": [1e308, 1.0]})
    kept_table, rejected = Contract("sales", "id", "at", columns, {}, {}).split_table(table)
    assert kept_table["id"].to_pylist() == [2]
    assert [(r["record_id"], r["column_name"]) for r in rejected] == [("1", "amt")]


def test_a_sale_with_an_absurd_amount_is_rejected_and_loads_once_fixed(sandbox, tmp_path):
    spoiled: set[int] = set()
    state = {"on": True}

    def inflate(sale: dict) -> None:
        if not spoiled or sale["id"] in spoiled:
            spoiled.add(sale["id"])
            sale["amt"] = 1e308

    wh = tmp_path / "wh.duckdb"
    args = ["--vendors", "clickmagick", "--warehouse", str(wh), "--no-transform"]
    with running_proxy(sandbox.vendor_url("clickmagick"), sales_rewrite(state, inflate)) as vendor:
        env = sandbox_env(sandbox, [], SOURCES__CLICKMAGICK__BASE_URL=vendor.url, **END)
        first = run_cli(args, env)
        assert first.returncode == 0 and "1 records rejected" in first.stdout, first.stdout + first.stderr
        assert count(wh, "select max(abs(amt)) from clickmagick.sales") < AMOUNT_LIMIT
        state["on"] = False
        assert run_cli(args, env).returncode == 0
    assert count(wh, "select count(*) from clickmagick.sales") == sandbox.truth()["clickmagick"]["sales"]
    assert count(wh, "select count(*) from clickmagick.rejected_records") == 0


def test_a_mark_pushed_past_now_before_the_check_is_set_back_by_the_next_run(fresh_sandbox, tmp_path):
    """A warehouse loaded before cursor times were checked may hold a 2099 mark: every later sale would be
    filtered out, run after run. The next run reads from where the loaded sales end and sets the mark back."""
    wh = tmp_path / "wh.duckdb"

    def load() -> Pipeline:
        pipeline = make_pipeline("clickmagick", wh)
        pipeline.run(clickmagick_source(base_url=fresh_sandbox.vendor_url("clickmagick"), api_key=KEY,
                                        initial_start="2026-09-01T00:00:00Z", end_time=END_TIME,
                                        attribution_models=["linear"], stats=False),
                     loader_file_format=LOADER_FILE_FORMAT)
        return pipeline

    pipeline = load()
    with pipeline.managed_state(extract_state=True) as state:
        sales = state["sources"]["clickmagick"]["resources"]["sales"]
        sales["incremental"]["timestamp"]["last_value"] = datetime(2099, 1, 1, tzinfo=UTC)
    load()  # dlt loads the package of the state written above (and extracts nothing)
    fresh_sandbox.advance(72)
    pipeline = load()
    assert count(wh, "select count(*) from clickmagick.sales") == fresh_sandbox.truth()["clickmagick"]["sales"]
    mark = pipeline.state["sources"]["clickmagick"]["resources"]["sales"]["incremental"]["timestamp"]["last_value"]
    assert utc(mark) < datetime.now(UTC)


def test_a_webmarketer_event_updated_at_no_time_is_rejected_not_the_vendor_stopped(fresh_sandbox, tmp_path):
    """Webmarketer's row shaping parsed every time and stopped the whole vendor on one that was none."""
    spoiled: set[str] = set()
    state = {"on": True}

    def mangle_one(exchange: Exchange) -> None:
        if state["on"] and exchange.path.endswith("/events") and exchange.status == 200:
            body = exchange.json()
            for event in body["data"]:
                if not spoiled or event["_id"] in spoiled:
                    spoiled.add(event["_id"])
                    event["updatedAt"] = "last Tuesday"
            exchange.set_json(body)

    wh = tmp_path / "wh.duckdb"
    args = ["--vendors", "webmarketer", "--warehouse", str(wh), "--no-transform"]
    with running_proxy(fresh_sandbox.vendor_url("webmarketer"), mangle_one) as vendor:
        env = sandbox_env(fresh_sandbox, [], SOURCES__WEBMARKETER__BASE_URL=vendor.url, **PINNED_END)
        first = run_cli(args, env)
        assert first.returncode == 0, first.stdout + first.stderr
        truth = fresh_sandbox.truth()["webmarketer"]["events"]
        assert len(spoiled) == 1 and count(wh, "select count(*) from webmarketer.events") == truth - 1
        assert count(wh, "select count(*) from webmarketer.rejected_records where column_name = 'updated_at' and "
                         "raw_value = '\"last Tuesday\"' and reason like 'cannot be read as timestamp%'") == 1
        state["on"] = False  # fixed by the vendor: loaded by the next run
        second = run_cli(args, env)
        assert second.returncode == 0, second.stdout + second.stderr
    assert count(wh, "select count(*) from webmarketer.events") == truth
    assert count(wh, "select count(*) from webmarketer.rejected_records") == 0
