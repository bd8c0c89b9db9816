"""Fault injection appears at the configured rates; exports, signed URLs and tokens behave as documented."""

from __future__ import annotations

import csv
import io
import time
import zipfile

import httpx
import pytest

from simulator.credentials import CREDENTIALS
from tests.sandbox.helpers import CM_KEY, I8_KEY, I8_WINDOW, INTEGRATIONS, i8_report_all, wm_token

N = 400


def _statuses(client: httpx.Client, url: str, headers: dict[str, str]) -> list[int | str]:
    out: list[int | str] = []
    for _ in range(N):
        try:
            out.append(client.get(url, headers=headers).status_code)
        except httpx.TransportError:
            out.append("dropped")
    return out


@pytest.mark.parametrize(("settings", "outcome"), [({"rate_5xx": 0.2}, "5xx"), ({"rate_drop": 0.2}, "dropped")])
def test_faults_appear_at_the_configured_rate(fresh_sandbox, settings, outcome):
    fresh_sandbox.set_faults(**settings)
    with httpx.Client(timeout=10) as client:
        seen = _statuses(client, f"{fresh_sandbox.vendor_url('clickmagick')}/v1/campaigns/projects", CM_KEY)
    hits = sum(1 for s in seen if (s == "dropped" if outcome == "dropped" else isinstance(s, int) and s >= 500))
    assert 0.13 * N <= hits <= 0.27 * N, hits  # binomial(400, 0.2): +-4.9 sigma
    assert all(s == 200 for s in seen if not (s == "dropped" or (isinstance(s, int) and s >= 500)))


def test_429_storms_announce_retry_after(fresh_sandbox):
    fresh_sandbox.set_faults(rate_429=0.05, storm_length=3, retry_after=2, vendors=["integr8"])
    with httpx.Client(timeout=10) as client:
        responses = [client.get(f"{fresh_sandbox.vendor_url('integr8')}/api/v2/advertisers", headers=I8_KEY)
                     for _ in range(N)]
        cm = client.get(f"{fresh_sandbox.vendor_url('clickmagick')}/v1/campaigns/projects", headers=CM_KEY)
    limited = [i for i, r in enumerate(responses) if r.status_code == 429]
    assert limited and all(responses[i].headers["Retry-After"] == "2" for i in limited)
    assert len(limited) % 3 == 0 or limited[-1] >= N - 3  # storms come in runs of three
    assert cm.status_code == 200  # faults were scoped to Integr8


def _export(client: httpx.Client, base: str, kind: str, **params: str) -> dict:
    query = {**I8_WINDOW, "fields": "real_tx_id,click_time,publisher,payout,status", "extra_parameters": "",
             **params}
    created = client.post(f"{base}/api/v2/download-center/{kind}-export/{INTEGRATIONS[0]}", params=query,
                          headers=I8_KEY).raise_for_status().json()
    assert created["status"] == "PENDING"
    seen = set()
    for _ in range(200):
        export = client.get(f"{base}/api/v2/downloadcenter-exports/{created['id']}", headers=I8_KEY).json()["data"]
        seen.add(export["status"])
        if export["status"] in ("COMPLETED", "ERROR"):
            export["_seen"] = seen
            return export
        time.sleep(0.05)
    raise AssertionError("export never finished")


def test_export_matches_the_report_for_the_same_window(sandbox):
    base = sandbox.vendor_url("integr8")
    with httpx.Client(timeout=30) as client:
        export = _export(client, base, "clicks", delimiter=";")
        assert export["status"] == "COMPLETED" and "IN_PROGRESS" in export["_seen"]
        url = client.get(f"{base}/downloadcenter-artifact-url", params={"artifact_name": export["artifact"]["name"]},
                         headers=I8_KEY).json()["url"]
        archive = zipfile.ZipFile(io.BytesIO(client.get(url).raise_for_status().content))
        report = i8_report_all(client, base, "click-table", INTEGRATIONS[0])
    assert len(archive.namelist()) == 1
    rows = list(csv.DictReader(io.StringIO(archive.read(archive.namelist()[0]).decode()), delimiter=";"))
    assert list(rows[0]) == ["real_tx_id", "click_time", "publisher", "payout", "status"]
    as_csv = {(r["real_tx_id"], r["click_time"], r["publisher"], float(r["payout"]), r["status"]) for r in rows}
    as_api = {(r["real_tx_id"], r["click_time"], r["publisher"], r["payout"], r["status"]) for r in report}
    assert as_csv == as_api and len(rows) == export["results_meta"]["total"]


def test_export_rejects_unknown_fields(sandbox):
    r = httpx.post(f"{sandbox.vendor_url('integr8')}/api/v2/download-center/clicks-export/{INTEGRATIONS[0]}",
                   params={**I8_WINDOW, "fields": "real_tx_id,favourite_colour"}, headers=I8_KEY)
    assert r.status_code == 400 and "favourite_colour" in r.json()["errors"][0]["detail"]


def test_export_error_and_expired_url(fresh_sandbox):
    base = fresh_sandbox.vendor_url("integr8")
    with httpx.Client(timeout=30) as client:
        fresh_sandbox.set_faults(export_error_rate=1.0)
        failed = _export(client, base, "conversions", fields="real_tx_id,status")
        assert failed["status"] == "ERROR" and failed["error"]
        fresh_sandbox.set_faults(url_ttl_s=0.2)
        done = _export(client, base, "impressions", fields="real_tx_id,request_time")
        url = client.get(f"{base}/downloadcenter-artifact-url", params={"artifact_name": done["artifact"]["name"]},
                         headers=I8_KEY).json()["url"]
        time.sleep(1.2)
        expired = client.get(url)
        assert expired.status_code == 403 and b"Request has expired" in expired.content
        tampered = client.get(url.replace("signature=", "signature=0"))
        assert tampered.status_code == 403


def test_webmarketer_tokens_expire_and_refresh(fresh_sandbox):
    base = fresh_sandbox.vendor_url("webmarketer")
    with httpx.Client(timeout=30) as client:
        creds = CREDENTIALS["webmarketer"]
        grant = client.post(f"{base}/oauth/token", data={"grant_type": "client_credentials", **creds}).json()
        headers = {"Authorization": f"Bearer {grant['access_token']}"}
        assert client.get(f"{base}/api/v1/agents/me/projects", headers=headers).status_code == 200
        fresh_sandbox.control("POST", "tokens/expire")
        assert client.get(f"{base}/api/v1/agents/me/projects", headers=headers).status_code == 401
        refreshed = client.post(f"{base}/oauth/token", data={"grant_type": "refresh_token",
                                                             "refresh_token": grant["refresh_token"]}).json()
        fresh = {"Authorization": f"Bearer {refreshed['access_token']}"}
        assert client.get(f"{base}/api/v1/agents/me/projects", headers=fresh).status_code == 200
        assert client.get(f"{base}/api/v1/agents/me/projects", headers=wm_token(client, base)).status_code == 200
