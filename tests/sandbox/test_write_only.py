"""Improvely and ConvertLoop validate as documented and record what they accept."""

from __future__ import annotations

import httpx
import pytest

from simulator.credentials import CREDENTIALS

IMP_KEY = CREDENTIALS["improvely"]["api_key"]
CL_AUTH = (CREDENTIALS["convertloop"]["app_id"], CREDENTIALS["convertloop"]["api_key"])


@pytest.mark.parametrize(("params", "message"), [
    ({"project": 1, "revenue": 10}, "`label`, `ip` and `user_agent`"),
    ({"project": 1, "subid": "x", "revenue": "ten"}, "`revenue`"),
    ({"project": 99, "label": "v1"}, "`project`"),
    ({"project": 1, "label": "v1", "date": "yesterday"}, "`date`"),
])
def test_improvely_conversion_validation(sandbox, params, message):
    r = httpx.post(f"{sandbox.vendor_url('improvely')}/v1/conversion.json", data={"key": IMP_KEY, **params})
    assert r.status_code == 400
    assert r.json()["status"] == "error" and r.json()["type"] == "parameters" and message in r.json()["message"]


def test_write_only_vendors_record_what_they_accept(fresh_sandbox):
    imp, cl = fresh_sandbox.vendor_url("improvely"), fresh_sandbox.vendor_url("convertloop")
    visitor = next(line["email"] for line in fresh_sandbox.control("GET", "truth/conversions") if line["email"])
    unknown = httpx.post(f"{imp}/v1/conversion.json", data={"key": IMP_KEY, "project": 1, "goal": "sale",
                                                             "revenue": "12.50", "reference": "ORD-1", "subid": "tx1"})
    assert unknown.status_code == 400 and unknown.json()["type"] == "visitor"  # no profile: nothing created
    sale = {"key": IMP_KEY, "project": 101, "goal": "sale", "revenue": "12.50", "reference": "ORD-1", "label": visitor}
    ok = httpx.post(f"{imp}/v1/conversion.json", data=sale)
    assert ok.json() == {"status": "success"}
    again = httpx.post(f"{imp}/v1/conversion.json", data={**sale, "revenue": "99"})  # the duplicate filter
    assert again.json() == {"status": "success"}
    assert httpx.post(f"{imp}/v1/link.json", data={"key": IMP_KEY, "project": 1, "url": "https://x.test"}
                      ).json()["message"] == "Missing required parameter: `campaign`."
    assert httpx.post(f"{cl}/v1/people", json={"first_name": "no id"}, auth=CL_AUTH).status_code == 422
    assert httpx.post(f"{cl}/v1/event_logs", json={"person": {"email": "a@x.test"}}, auth=CL_AUTH).status_code == 422
    assert httpx.post(f"{cl}/v1/people", json={"email": "a@x.test", "add_to_segments": "paid"},
                      auth=CL_AUTH).status_code == 200
    event = {"name": "attributed", "person": {"email": "a@x.test"}, "ocurred_at": "2026-10-01T00:00:00Z"}
    assert httpx.post(f"{cl}/v1/event_logs", json=event, auth=CL_AUTH).status_code == 200
    received = fresh_sandbox.control("GET", "received")
    (call,) = received["improvely"]["conversion"]
    assert call == {"project": "101", "goal": "sale", "revenue": "12.50", "reference": "ORD-1", "label": visitor,
                    "received_at": fresh_sandbox.control("GET", "clock")["clock"]}
    assert len(received["convertloop"]["people"]) == 1 and len(received["convertloop"]["event_logs"]) == 1
    assert fresh_sandbox.control("GET", "held")["convertloop"]["people"] == [
        {"email": "a@x.test", "segments": ["paid"]}]
