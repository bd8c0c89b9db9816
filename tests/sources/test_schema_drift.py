"""Schema drift (sources.common.drift): a documented field the vendor stops sending keeps the values already
loaded (a re-read record without it is not a record with it set to null), a field the documentation does not
have is named, both in `<vendor>.schema_drift` and the run's summary, until the vendor sends the documented
shape again. Driven through a rewriting proxy in front of the sandbox, on the JSON path (ClickMagick) and both
Arrow paths (Integr8's reports and Download Center exports)."""

from __future__ import annotations

import json
from collections.abc import Callable
from types import SimpleNamespace

import pytest

from tests.proxy import Exchange, running_proxy
from tests.sources.test_data_contract import END, sales_rewrite
from tests.sources.test_integr8 import exports_rewritten, load
from tests.warehouse import count, count_current, run_cli, sandbox_env, snapshot

DRIFT = "select table_name, column_name, change from {}.schema_drift order by all"


def drift(wh, vendor: str) -> list[tuple[str, str, str]]:
    import duckdb

    with duckdb.connect(str(wh), read_only=True) as con:
        return con.execute(DRIFT.format(vendor)).fetchall()


def test_a_field_clickmagick_stops_sending_keeps_its_values_and_is_named(fresh_sandbox, tmp_path):
    state = {"on": False}

    def drop_and_add(sale: dict) -> None:
        del sale["cogs"], sale["country"]
        sale["affiliate_tag"] = "aff-7"

    wh, summary = tmp_path / "wh.duckdb", tmp_path / "summary.json"
    args = ["--vendors", "clickmagick", "--warehouse", str(wh), "--no-transform", "--summary-json", str(summary)]
    with running_proxy(fresh_sandbox.vendor_url("clickmagick"), sales_rewrite(state, drop_and_add)) as vendor:
        env = sandbox_env(fresh_sandbox, [], SOURCES__CLICKMAGICK__BASE_URL=vendor.url, **END)
        assert run_cli(args, env).returncode == 0
        loaded = count(wh, "select count(*) from clickmagick.sales where country is not null and cogs is not null")
        assert loaded == count(wh, "select count(*) from clickmagick.sales") > 0

        state["on"] = True  # the vendor drops two documented fields and adds one of its own
        drifted = run_cli(args, env)
        assert drifted.returncode == 0, drifted.stdout + drifted.stderr
        assert json.loads(summary.read_text())["vendors"][0]["rows"].get("sales", 0) > 0  # re-read, changed
        # nothing loaded before is wiped: every stored sale keeps its country and cogs
        assert count(wh, "select count(*) from clickmagick.sales where country is not null and cogs is not null"
                     ) == loaded
        assert drift(wh, "clickmagick") == [("sales", "affiliate_tag", "undocumented"),
                                            ("sales", "cogs", "missing"), ("sales", "country", "missing")]
        assert "schema drift: sales.affiliate_tag undocumented, sales.cogs missing, sales.country missing" \
            in drifted.stdout
        assert json.loads(summary.read_text())["vendors"][0]["drift"] == [
            "sales.affiliate_tag undocumented", "sales.cogs missing", "sales.country missing"]

        fresh_sandbox.advance(24)  # new sales arrive without the fields: null, and the drift stays open
        assert run_cli(args, env).returncode == 0
        assert count(wh, "select count(*) from clickmagick.sales where country is null") > 0
        assert len(drift(wh, "clickmagick")) == 3

        state["on"] = False  # the vendor sends the documented shape again: drift closed, values back
        recovered = run_cli(args, env)
        assert recovered.returncode == 0, recovered.stdout + recovered.stderr
        assert "schema drift" not in recovered.stdout
    assert drift(wh, "clickmagick") == []
    clean = tmp_path / "clean.duckdb"
    env = sandbox_env(fresh_sandbox, [], SOURCES__CLICKMAGICK__BASE_URL=fresh_sandbox.vendor_url("clickmagick"), **END)
    assert run_cli(["--vendors", "clickmagick", "--warehouse", str(clean), "--no-transform"], env).returncode == 0
    columns = "id, cogs, country"
    assert count(wh, "select count(*) from clickmagick.sales") == count(clean, "select count(*) from clickmagick.sales")
    assert _rows(wh, columns) == _rows(clean, columns)


def _rows(wh, columns: str) -> list[tuple]:
    import duckdb

    with duckdb.connect(str(wh), read_only=True) as con:
        return con.execute(f"select {columns} from clickmagick.sales order by id").fetchall()


def reports_without_user_agent(state: dict) -> Callable[[Exchange], None]:
    def rewrite(exchange: Exchange) -> None:
        if state["on"] and "click-table" in exchange.path and exchange.status == 200:
            body = exchange.json()
            for row in body["data"]["data"]:
                del row["user_agent"]
                row["device_fingerprint"] = "fp-1"
            exchange.set_json(body)

    return rewrite


def exports_without_user_agent(state: dict, proxy_url: str, sandbox_url: str) -> Callable[[Exchange], None]:
    def drop(rows: list[list[str]]) -> list[list[str]] | None:
        if not state["on"] or "user_agent" not in rows[0]:
            return None
        at = rows[0].index("user_agent")
        return [[*row[:at], *row[at + 1:], "fp-1" if i else "device_fingerprint"] for i, row in enumerate(rows)]

    return exports_rewritten(proxy_url, sandbox_url, drop)


@pytest.mark.parametrize("path", ["reports", "exports"])
def test_a_field_integr8_stops_sending_keeps_its_values_and_is_named(sandbox, tmp_path, path):
    state = {"on": False}
    url = sandbox.vendor_url("integr8")
    settings = {"export_threshold_hours": 10**6, "window_hours": 24 * 7} if path == "reports" else \
        {"export_threshold_hours": 0}
    wh = tmp_path / "wh.duckdb"
    with running_proxy(url) as vendor:
        vendor.rewrite = (reports_without_user_agent(state) if path == "reports"
                          else exports_without_user_agent(state, vendor.url, url))
        proxied = SimpleNamespace(vendor_url=lambda _: vendor.url)
        load(proxied, wh, tables=["clicks"], **settings)
        agents = count_current(wh, "integr8", "clicks", "user_agent is not null")
        assert agents == count_current(wh, "integr8", "clicks") > 0
        before = snapshot(wh, "integr8")["clicks"]

        state["on"] = True
        load(proxied, wh, tables=["clicks"], **settings)
        assert count_current(wh, "integr8", "clicks", "user_agent is not null") == agents
        assert drift(wh, "integr8") == [("clicks", "device_fingerprint", "undocumented"),
                                        ("clicks", "user_agent", "missing")]
        assert snapshot(wh, "integr8")["clicks"] == before  # the current rows are what they were

        state["on"] = False
        load(proxied, wh, tables=["clicks"], **settings)
    assert drift(wh, "integr8") == []
    assert snapshot(wh, "integr8")["clicks"] == before
