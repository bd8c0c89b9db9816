"""Documented column types are a contract: a value that does not fit is set aside in `rejected_records` with
its raw value and reason (never NULL beside a variant column), counted in the summary, and loaded once the
vendor sends a value that fits: the next run reads back to where the rejected records were listed. A cursor
outside the window read (a sale in 2099 or 1900) is rejected the same way and never moves the high-water mark."""

from __future__ import annotations

import json
from collections.abc import Callable

import duckdb
import pytest

from pipelines.registry import SOURCES
from sources.common.contract import REJECTS_TABLE, Contract, violations
from tests.proxy import Exchange, running_proxy
from tests.warehouse import PINNED_END, count, run_cli, sandbox_env, stored_tables

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


@pytest.mark.parametrize("moment", ["2099-01-01T00:00:00Z", "1900-01-01T00:00:00Z"])
def test_a_sale_at_an_absurd_time_is_rejected_and_moves_no_mark(fresh_sandbox, tmp_path, moment):
    spoiled: set[int] = set()
    state = {"on": True}

    def misdate(sale: dict) -> None:
        if not spoiled or sale["id"] in spoiled:
            spoiled.add(sale["id"])
            sale["timestamp"] = moment

    misdate_one_sale = sales_rewrite(state, misdate)

    wh = tmp_path / "wh.duckdb"
    args = ["--vendors", "clickmagick", "--warehouse", str(wh), "--no-transform"]
    with running_proxy(fresh_sandbox.vendor_url("clickmagick"), misdate_one_sale) as vendor:
        env = sandbox_env(fresh_sandbox, [], SOURCES__CLICKMAGICK__BASE_URL=vendor.url, **END)
        first = run_cli(args, env)
        assert first.returncode == 0, first.stdout + first.stderr
        assert len(spoiled) == 1 and "1 records rejected" in first.stdout
        truth = fresh_sandbox.truth()["clickmagick"]["sales"]
        assert count(wh, "select count(*) from clickmagick.sales") == truth - 1
        assert count(wh, "select count(*) from clickmagick.rejected_records where column_name = 'timestamp' and "
                         f"raw_value like '%{moment[:4]}%' and reason like 'outside the window read%'") == 1
        # nothing written for the sale carries its absurd time: the high-water mark stays where the data are
        assert count(wh, "select count(*) from clickmagick._fingerprints_sales where timestamp > now() + "
                         "interval 1 hour or timestamp < '2026-01-01'") == 0

        state["on"] = False  # the vendor fixes the sale, and three days of new sales come in
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
