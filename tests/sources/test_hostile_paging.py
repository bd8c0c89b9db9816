"""Vendors whose paging misbehaves (through a rewriting proxy in front of the sandbox): endless empty pages,
an empty page that is not the last, repeated records. Every case ends with all records or a clear error,
never with a silent loss, duplicated credits, or a run that never ends."""

from __future__ import annotations

import itertools
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from dlt.pipeline.exceptions import PipelineStepFailed

from simulator.credentials import CREDENTIALS
from sources.clickmagick import clickmagick_source
from sources.integr8 import integr8_source
from sources.webmarketer import webmarketer_source
from tests.proxy import Exchange, running_proxy
from tests.warehouse import count, count_current
from warehouse import LOADER_FILE_FORMAT, make_pipeline

START, END = "2026-09-01T00:00:00Z", "2026-11-10T00:00:00Z"
INTEGRATIONS = ["int-surf-7f3a", "int-alpine-91c2", "int-outback-44d8"]


def run(source, warehouse, vendor: str) -> None:
    make_pipeline(vendor, warehouse).run(source, loader_file_format=LOADER_FILE_FORMAT)


def clickmagick(url: str, **kwargs):
    return clickmagick_source(base_url=url, api_key=CREDENTIALS["clickmagick"]["api_key"], initial_start=START,
                              end_time=END, **kwargs)


def test_endless_empty_pages_fail_naming_vendor_and_endpoint(sandbox, tmp_path):
    cursors = itertools.count()

    def endless(exchange: Exchange) -> None:
        if exchange.path.startswith("/v1/campaigns/sales"):
            # a fresh cursor every time; after 500 pages the proxy gives up so an unbounded loop fails, not hangs
            more = next(cursors) < 500
            exchange.set_json({"sales": [], "cursor": {"next": f"c{next(cursors)}" if more else None},
                               "status": "OK"})
            exchange.answered = True

    with running_proxy(sandbox.vendor_url("clickmagick"), before=endless) as vendor, \
            pytest.raises(PipelineStepFailed) as failure:
        run(clickmagick(vendor.url, attribution_models=["linear"]), tmp_path / "w.duckdb", "clickmagick")
    assert "ClickMagick: GET sales/linear" in str(failure.value) and "empty pages in a row" in str(failure.value)
    assert len(vendor.seen) < 100


def test_a_repeated_record_does_not_double_its_credits(sandbox, tmp_path):
    def repeat_first(exchange: Exchange) -> None:
        if exchange.path.startswith("/v1/campaigns/sales/") and exchange.status == 200:
            body = exchange.json()
            if body["sales"]:
                body["sales"].append(body["sales"][0])
                exchange.set_json(body)

    wh = tmp_path / "w.duckdb"
    with running_proxy(sandbox.vendor_url("clickmagick"), repeat_first) as vendor:  # two models: fewer calls
        run(clickmagick(vendor.url, attribution_models=["linear", "first_click"]), wh, "clickmagick")
    assert count(wh, "select count(*) from clickmagick.sales") == sandbox.truth()["clickmagick"]["sales"]
    assert count(wh, "select count(*) from (select conversion_id, attribution_model, click_id from "
                     "clickmagick.sales__credits group by all having count(*) > 1)") == 0
    assert count(wh, "select count(*) from (select conversion_id, attribution_model, sum(share) s "
                     "from clickmagick.sales__credits group by all) where abs(s - 1) > 1e-9") == 0


def test_an_empty_report_page_announcing_more_does_not_end_the_window(sandbox, tmp_path):
    def empty_first_page(exchange: Exchange) -> None:
        if not exchange.path.endswith("/click-table"):
            return
        after = exchange.query.get("page[after]", [None])[0]
        if after is None:
            exchange.set_json({"data": {"data": [], "pageInfo": {"hasNextPage": True, "endCursor": "EMPTY"}}})
            exchange.answered = True
        elif after == "EMPTY":  # the real first page
            parts = urlsplit(exchange.forward_path)
            query = [(k, v) for k, v in parse_qsl(parts.query) if k != "page[after]"]
            exchange.forward_path = f"{parts.path}?{urlencode(query)}"

    wh = tmp_path / "w.duckdb"
    with running_proxy(sandbox.vendor_url("integr8"), before=empty_first_page) as vendor:
        source = integr8_source(base_url=vendor.url, api_key=CREDENTIALS["integr8"]["api_key"],
                                integration_ids=INTEGRATIONS, initial_start=START, end_time=END,
                                export_threshold_hours=100_000, tables=["clicks"])
        run(source, wh, "integr8")
    assert count_current(wh, "integr8", "clicks") == sandbox.truth()["integr8"]["clicks"]


def test_a_page_that_skips_a_record_fails_and_the_rerun_loads_it(sandbox, tmp_path):
    broken = {"on": True}

    def duplicate_instead_of_neighbour(exchange: Exchange) -> None:
        if broken["on"] and exchange.path.endswith("/events") and exchange.status == 200:
            body = exchange.json()
            if len(body["data"]) > 1:
                body["data"][-1] = body["data"][0]  # the vendor repeats one record where another should be
                exchange.set_json(body)

    wh = tmp_path / "w.duckdb"
    creds = CREDENTIALS["webmarketer"]
    with running_proxy(sandbox.vendor_url("webmarketer"), duplicate_instead_of_neighbour) as vendor:
        def source():
            return webmarketer_source(base_url=vendor.url, initial_start=START, end_time=END, **creds)

        with pytest.raises(PipelineStepFailed) as failure:
            run(source(), wh, "webmarketer")
        assert "Webmarketer: GET events" in str(failure.value) and "skipped records" in str(failure.value)
        broken["on"] = False
        run(source(), wh, "webmarketer")
    assert count(wh, "select count(*) from webmarketer.events") == sandbox.truth()["webmarketer"]["events"]
