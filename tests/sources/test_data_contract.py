"""Documented column types are a contract: a value that does not fit is set aside in `rejected_records` with
its raw value and reason (never NULL beside a variant column), counted in the summary, and loaded once the
vendor sends a value that fits."""

from __future__ import annotations

import json

import duckdb

from pipelines.registry import SOURCES
from sources.common.contract import REJECTS_TABLE, Contract, violations
from tests.proxy import Exchange, running_proxy
from tests.warehouse import PINNED_END, count, run_cli, sandbox_env, stored_tables

# One model: fewer calls through the proxy.
END = {**PINNED_END, "SOURCES__CLICKMAGICK__ATTRIBUTION_MODELS": '["linear"]'}


def test_a_value_that_does_not_fit_is_rejected_then_loaded_when_it_fits(sandbox, tmp_path):
    broken: set[int] = set()
    state = {"on": True}

    def spoil_amounts(exchange: Exchange) -> None:
        if state["on"] and exchange.path.startswith("/v1/campaigns/sales") and exchange.status == 200:
            body = exchange.json()
            for sale in body["sales"]:
                if sale["id"] % 5 == 0:
                    sale["amt"] = "twelve"
                    broken.add(sale["id"])
            exchange.set_json(body)

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

        state["on"] = False  # the vendor recovers: records inside the lookback load, older ones stay rejected
        second = run_cli(args, env)
        assert second.returncode == 0, second.stdout + second.stderr
        waiting = count(wh, "select count(*) from clickmagick.rejected_records")
        assert 0 < waiting < len(broken)
        assert count(wh, "select count(*) from clickmagick.sales") == truth - waiting
        assert json.loads(summary.read_text())["vendors"][0]["rejected"] == waiting

        backfill = run_cli([*args, "--backfill-from", "2026-09-01"], env)  # what the README says to do
        assert backfill.returncode == 0, backfill.stdout + backfill.stderr
    assert count(wh, "select count(*) from clickmagick.sales") == truth
    assert count(wh, "select count(*) from clickmagick.rejected_records") == 0
    assert json.loads(summary.read_text())["vendors"][0]["rejected"] == 0


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
