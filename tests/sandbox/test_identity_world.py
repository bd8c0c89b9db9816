"""The hard identity world over HTTP: Webmarketer serves some buyers' emails as they mistyped them."""

from __future__ import annotations

import httpx

from simulator.identity import DOMAIN, DOMAIN_TYPOS
from simulator.process import running_sandbox
from tests.sandbox.helpers import WM_PROJECTS, wm_all, wm_token


def test_webmarketer_serves_some_emails_with_a_mistyped_domain():
    with running_sandbox(seed=11, scale=2.0, identity="hard") as sb, httpx.Client(timeout=30) as client:
        truth = {line["records"]["webmarketer"]: line["email"] for line in sb.control("GET", "truth/conversions")
                 if "webmarketer" in line["records"]}
        assert sb.control("GET", "info")["identity"] == "hard"
        base = sb.vendor_url("webmarketer")
        headers = wm_token(client, base)
        served = {event["_id"]: event["user"].get("email", {}).get("current")
                  for project in WM_PROJECTS for event in wm_all(client, f"{base}/api/v1/projects/{project}/events",
                                                                 headers)}
    assert served.keys() == truth.keys()  # the truth's record ids are the events' ids
    mistyped = {i: (email, truth[i]) for i, email in served.items() if email != truth[i]}
    assert 0 < len(mistyped) < 0.1 * len(served)
    for email, true in mistyped.values():
        local, domain = email.split("@")
        assert true == f"{local}{DOMAIN}" and f"@{domain}" in DOMAIN_TYPOS
