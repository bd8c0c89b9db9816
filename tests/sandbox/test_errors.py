"""Limits are enforced and bad credentials get each vendor's documented error."""

from __future__ import annotations

import base64

import httpx
import pytest

from simulator.process import running_sandbox
from tests.sandbox.helpers import CM_KEY, I8_KEY, I8_WINDOW, INTEGRATIONS, WINDOW, wm_token


@pytest.fixture(scope="module")
def client():
    with httpx.Client(timeout=30) as c:
        yield c


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 101}, {"limit": "ten"},
                                    {"start_time": "2026-09-01T00:00:00Z"}, {"cursor": "%%%"},
                                    {"start_time": "yesterday", "end_time": "today"}])
def test_clickmagick_rejects_bad_parameters(sandbox, client, params):
    r = client.get(f"{sandbox.vendor_url('clickmagick')}/v1/campaigns/sales", params=params, headers=CM_KEY)
    assert r.status_code == 400
    assert r.json()["status"] == "ERROR" and r.json()["errors"]


def test_clickmagick_unknown_model_and_project(sandbox, client):
    base = sandbox.vendor_url("clickmagick")
    assert client.get(f"{base}/v1/campaigns/sales/best_guess", headers=CM_KEY).status_code == 400
    assert client.get(f"{base}/v1/campaigns/projects/1/sales", headers=CM_KEY).status_code == 404


@pytest.mark.parametrize(("params", "status"), [
    ({"page[size]": 101}, 400),
    ({"page[size]": None}, 400),
    ({"page[after]": "01A", "page[before]": "01B"}, 400),
    ({"end_time": "2026-11-30 00:00:00"}, 402),
    ({"integration_id": "int-someone-else"}, 403),
    ({"timezone": "Mars/Olympus"}, 400),
])
def test_integr8_report_limits(sandbox, client, params, status):
    query = {"integration_id": INTEGRATIONS[0], "page[size]": 10, **I8_WINDOW, **params}
    query = {k: v for k, v in query.items() if v is not None}
    r = client.get(f"{sandbox.vendor_url('integr8')}/api/v2/reports/v2/click-table", params=query, headers=I8_KEY)
    assert r.status_code == status
    assert r.json()["errors"][0]["status"] == str(status)


def test_webmarketer_limit(sandbox, client):
    base = sandbox.vendor_url("webmarketer")
    r = client.get(f"{base}/api/v1/projects/surf-shop/events", params={"limit": 101}, headers=wm_token(client, base))
    assert r.status_code == 400 and r.json()["statusCode"] == 400


def test_bad_credentials_give_each_vendors_error(sandbox, client):
    cm = client.get(f"{sandbox.vendor_url('clickmagick')}/v1/campaigns/sales", headers={"X-APIKEY": "nope"})
    assert cm.status_code == 401 and cm.json()["status"] == "ERROR"
    i8 = client.get(f"{sandbox.vendor_url('integr8')}/api/v2/advertisers", headers={"API-KEY": "nope"})
    assert i8.status_code == 401 and i8.json()["errors"][0]["title"] == "Unauthorized"
    wm_base = sandbox.vendor_url("webmarketer")
    token = client.post(f"{wm_base}/oauth/token", data={"grant_type": "client_credentials", "client_id": "x",
                                                         "client_secret": "y"})
    assert token.status_code == 401 and token.json()["error"] == "invalid_client"
    wm = client.get(f"{wm_base}/api/v1/agents/me/projects", headers={"Authorization": "Bearer forged"})
    assert wm.status_code == 401 and wm.json() == {"statusCode": 401, "message": "Unauthorized",
                                                   "error": "Unauthorized"}
    imp = client.post(f"{sandbox.vendor_url('improvely')}/v1/conversion.json", data={"key": "nope", "project": 1})
    assert imp.status_code == 400 and imp.json()["status"] == "error" and imp.json()["type"] == "authentication"
    bad = base64.b64encode(b"cl-sandbox-app:wrong").decode()
    cl = client.post(f"{sandbox.vendor_url('convertloop')}/v1/people", json={"email": "a@example.com"},
                     headers={"Authorization": f"Basic {bad}"})
    assert cl.status_code == 401


def test_clickmagick_work_budget_answers_429_with_retry_after(client):
    with running_sandbox(seed=3, scale=0.1, work_budget=100) as sb:
        url = f"{sb.vendor_url('clickmagick')}/v1/campaigns/sales"
        statuses = [client.get(url, params=WINDOW, headers=CM_KEY) for _ in range(4)]  # 62 days = 63 units each
    assert statuses[0].status_code == 200
    limited = [r for r in statuses if r.status_code == 429]
    assert limited and all(int(r.headers["Retry-After"]) >= 1 for r in limited)
