"""The hard identity world over HTTP: Webmarketer serves some buyers' emails as they mistyped them; ClickMagick
shows an order placed on a buyer's second device as a new visitor with no click."""

from __future__ import annotations

import httpx

from simulator.identity import DOMAIN, DOMAIN_TYPOS
from simulator.process import running_sandbox
from tests.sandbox.helpers import WINDOW, WM_PROJECTS, cm_all, wm_all, wm_token


def test_webmarketer_mistypes_some_emails_and_clickmagick_sees_second_devices_as_new_visitors():
    with running_sandbox(seed=11, scale=2.0, identity="hard") as sb, httpx.Client(timeout=30) as client:
        truth = sb.control("GET", "truth/conversions")
        assert sb.control("GET", "info")["identity"] == "hard"
        base = sb.vendor_url("webmarketer")
        headers = wm_token(client, base)
        served = {event["_id"]: event["user"].get("email", {}).get("current")
                  for project in WM_PROJECTS for event in wm_all(client, f"{base}/api/v1/projects/{project}/events",
                                                                 headers)}
        sales = {str(sale["id"]): sale for sale in cm_all(client, sb.vendor_url("clickmagick"), "/v1/campaigns/sales",
                                                          "sales", **WINDOW)}
    emails = {line["records"]["webmarketer"]: line["email"] for line in truth if "webmarketer" in line["records"]}
    assert served.keys() == emails.keys()  # the truth's record ids are the events' ids
    mistyped = {i: (email, emails[i]) for i, email in served.items() if email != emails[i]}
    assert 0 < len(mistyped) < 0.1 * len(served)
    for email, true in mistyped.values():
        local, domain = email.split("@")
        assert true == f"{local}{DOMAIN}" and f"@{domain}" in DOMAIN_TYPOS

    bought = [(line, sales[line["records"]["clickmagick"]]) for line in truth
              if "clickmagick" in line["records"] and line["type"] == "sale"]
    elsewhere = [(line, sale) for line, sale in bought if sale["cmc_vid"] != line["person"]]
    assert 0 < len(elsewhere) < 0.05 * len(bought)
    for line, sale in elsewhere:  # the truth's path was walked on the first device, which ClickMagick saw
        assert sale["clicks"] == [] and sale["utm_source"] is None and sale["email"] == line["email"]
        assert line["path"] and not any("clickmagick" in touch["vendors"] for touch in line["path"])
        assert any(other["person"] == line["person"] and other["time"] < line["time"] for other in truth)
