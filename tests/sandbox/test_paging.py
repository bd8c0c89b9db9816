"""Each paging style reaches every record exactly once."""

from __future__ import annotations

import itertools

import httpx
import pytest

from tests.sandbox.helpers import (
    CM_KEY,
    I8_KEY,
    INTEGRATIONS,
    WINDOW,
    WM_PROJECTS,
    cm_all,
    i8_report_all,
    wm_all,
    wm_token,
)


@pytest.fixture(scope="module")
def client():
    with httpx.Client(timeout=30) as c:
        yield c


@pytest.mark.parametrize("kind", ["sales", "actions", "engagements"])
def test_clickmagick_cursor_reaches_every_record_once(sandbox, client, kind):
    base = sandbox.vendor_url("clickmagick")
    rows = cm_all(client, base, f"/v1/campaigns/{kind}", kind, limit=7, **WINDOW)
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids)) == sandbox.truth()["clickmagick"][kind]


def test_clickmagick_projects_partition_the_records_and_models_agree(sandbox, client):
    base = sandbox.vendor_url("clickmagick")
    everything = {r["id"] for r in cm_all(client, base, "/v1/campaigns/sales", "sales", **WINDOW)}
    projects = client.get(f"{base}/v1/campaigns/projects", headers=CM_KEY).json()["projects"]
    per_project = [r["id"] for p in projects
                   for r in cm_all(client, base, f"/v1/campaigns/projects/{p['id']}/sales", "sales", **WINDOW)]
    assert len(per_project) == len(set(per_project)) and set(per_project) == everything
    for model in ["first_click", "linear", "pos_based", "time_decay"]:
        rows = cm_all(client, base, f"/v1/campaigns/sales/{model}", "sales", **WINDOW)
        assert {r["id"] for r in rows} == everything
        for row in rows:
            assert row["attribution_model"] == model
            if row["clicks"]:
                assert sum(c["share"] for c in row["clicks"]) == pytest.approx(1.0)


def test_clickmagick_prev_cursor_walks_back(sandbox, client):
    base = sandbox.vendor_url("clickmagick")
    first = client.get(f"{base}/v1/campaigns/sales", params={"limit": 5, **WINDOW}, headers=CM_KEY).json()
    assert first["cursor"]["prev"] is None
    second = client.get(f"{base}/v1/campaigns/sales", headers=CM_KEY,
                        params={"limit": 5, "cursor": first["cursor"]["next"], **WINDOW}).json()
    back = client.get(f"{base}/v1/campaigns/sales", headers=CM_KEY,
                      params={"limit": 5, "cursor": second["cursor"]["prev"], **WINDOW}).json()
    assert [r["id"] for r in back["sales"]] == [r["id"] for r in first["sales"]]
    assert not {r["id"] for r in first["sales"]} & {r["id"] for r in second["sales"]}


def test_clickmagick_utm_filter(sandbox, client):
    base = sandbox.vendor_url("clickmagick")
    rows = cm_all(client, base, "/v1/campaigns/sales", "sales", utm_source="google", **WINDOW)
    assert rows and all(r["utm_source"] == "google" for r in rows)


def _i8_windows() -> list[dict[str, str]]:
    edges = ["2026-09-01 00:00:00", "2026-10-01 00:00:00", "2026-10-31 00:00:00", "2026-11-30 00:00:00"]
    return [{"start_time": a, "end_time": b} for a, b in itertools.pairwise(edges)]


@pytest.mark.parametrize(("table", "resource"), [("click-table", "clicks"), ("conversion-table", "conversions"),
                                                 ("impression-table", "impressions")])
def test_integr8_after_cursor_reaches_every_record_once(sandbox, client, table, resource):
    base = sandbox.vendor_url("integr8")
    ids = [row["real_tx_id"] for integration in INTEGRATIONS for window in _i8_windows()
           for row in i8_report_all(client, base, table, integration, **window)]
    assert len(ids) == len(set(ids)) == sandbox.truth()["integr8"][resource]


def test_integr8_reports_are_newest_first_and_before_cursor_walks_back(sandbox, client):
    base = sandbox.vendor_url("integr8")
    rows = i8_report_all(client, base, "click-table", INTEGRATIONS[0], size=50)
    ids = [r["real_tx_id"] for r in rows]
    assert ids == sorted(ids, reverse=True)
    params = {"integration_id": INTEGRATIONS[0], "page[size]": 50, "start_time": "2026-09-01 00:00:00",
              "end_time": "2026-10-01 00:00:00", "page[before]": ids[100]}
    page = client.get(f"{base}/api/v2/reports/v2/click-table", params=params, headers=I8_KEY).json()["data"]
    assert [r["real_tx_id"] for r in page["data"]] == ids[50:100]
    assert page["pageInfo"]["hasPreviousPage"] and page["pageInfo"]["hasNextPage"]


def test_integr8_page_number_paging(sandbox, client):
    base = sandbox.vendor_url("integr8")
    seen = []
    for number in (1, 2, 3):
        body = client.get(f"{base}/api/v2/publishers", params={"page[size]": 5, "page[number]": number},
                          headers=I8_KEY).json()
        seen += [p["id"] for p in body["data"]]
        assert body["meta"] == {"total_count": 13, "total_page": 3}
    assert len(seen) == len(set(seen)) == 13
    offers = sum(client.get(f"{base}/api/v2/offers/{i}", params={"page[size]": 100}, headers=I8_KEY).json()["meta"][
        "total_count"] for i in INTEGRATIONS)
    assert offers == sandbox.truth()["integr8"]["offers"]


@pytest.mark.parametrize(("path", "resource"), [("events", "events"), ("trashed-events", "trashed_events")])
def test_webmarketer_offset_paging(sandbox, client, path, resource):
    base = sandbox.vendor_url("webmarketer")
    headers = wm_token(client, base)
    ids = [r["_id"] for p in WM_PROJECTS
           for r in wm_all(client, f"{base}/api/v1/projects/{p}/{path}", headers, limit=7)]
    assert len(ids) == len(set(ids)) == sandbox.truth()["webmarketer"][resource]


def test_webmarketer_campaigns_and_outlays(sandbox, client):
    base = sandbox.vendor_url("webmarketer")
    headers = wm_token(client, base)
    outlays, campaigns = [], 0
    for p in WM_PROJECTS:
        for integration in wm_all(client, f"{base}/api/v1/projects/{p}/integrations", headers):
            url = f"{base}/api/v1/projects/{p}/integrations/{integration['wmktId']}/campaigns"
            for campaign in wm_all(client, url, headers):
                campaigns += 1
                outlays += wm_all(client, f"{url}/{campaign['id']}/outlays", headers, limit=13)
    truth = sandbox.truth()["webmarketer"]
    assert campaigns == truth["campaigns"]
    assert len({o["_id"] for o in outlays}) == len(outlays) == truth["outlays"]
