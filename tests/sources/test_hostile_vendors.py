"""A vendor that misbehaves (through a rewriting proxy in front of the sandbox): redirects to another host,
secrets in error bodies, endless rate limiting. Nothing leaks and nothing waits forever."""

from __future__ import annotations

import time

import pytest

from simulator.credentials import CREDENTIALS
from tests.proxy import Exchange, running_proxy
from vendor_http import HeaderAuth, RetryPolicy, VendorClient, VendorError

KEY = CREDENTIALS["clickmagick"]["api_key"]
PROJECTS = "/v1/campaigns/projects"


def client_for(url: str, **retry) -> VendorClient:
    return VendorClient("ClickMagick", url, auth=HeaderAuth("X-APIKEY", KEY), secrets=[KEY],
                        retry=RetryPolicy(**retry))


def test_a_redirect_to_another_origin_never_carries_the_key(sandbox):
    with running_proxy(None) as elsewhere:
        def redirect(exchange: Exchange) -> None:
            exchange.status, exchange.body = 302, b""
            exchange.response_headers = {"Location": f"{elsewhere.url}/steal{PROJECTS}"}

        def answer(exchange: Exchange) -> None:
            exchange.set_json({"projects": [], "status": "OK"})

        elsewhere.rewrite = answer
        with running_proxy(sandbox.vendor_url("clickmagick"), redirect) as vendor, client_for(vendor.url) as client:
            assert client.get_json(PROJECTS)["status"] == "OK"
    assert vendor.seen[0].headers.get("X-APIKEY") == KEY  # the vendor's own origin gets the key
    assert len(elsewhere.seen) == 1
    assert "x-apikey" not in {k.lower() for k in elsewhere.seen[0].headers}


def test_a_redirect_within_the_vendor_keeps_the_key(sandbox):
    def redirect_once(exchange: Exchange) -> None:
        if exchange.path == "/old/projects":
            exchange.status, exchange.body = 301, b""
            exchange.response_headers = {"Location": "/v1/campaigns/projects"}

    with running_proxy(sandbox.vendor_url("clickmagick"), redirect_once) as vendor, client_for(vendor.url) as client:
        assert client.get_json("/old/projects")["status"] == "OK"
    assert [e.path for e in vendor.seen] == ["/old/projects", PROJECTS]
    assert vendor.seen[1].headers.get("X-APIKEY") == KEY


def test_redirect_loops_fail_naming_vendor_and_endpoint(sandbox):
    def loop(exchange: Exchange) -> None:
        exchange.status, exchange.body, exchange.response_headers = 302, b"", {"Location": exchange.path}

    with running_proxy(None, loop) as vendor, client_for(vendor.url) as client, pytest.raises(VendorError) as err:
        client.get_json(PROJECTS)
    assert "ClickMagick: GET /v1/campaigns/projects" in str(err.value) and "redirects" in str(err.value)


@pytest.mark.parametrize("offset", range(278, 292, 3))
def test_a_secret_straddling_the_error_excerpt_is_masked_whole(offset):
    def leak(exchange: Exchange) -> None:
        exchange.status = 400
        exchange.body = ("x" * offset + f" your key {KEY} is not allowed here " + "y" * 400).encode()

    with running_proxy(None, leak) as vendor, client_for(vendor.url) as client, pytest.raises(VendorError) as err:
        client.get_json(PROJECTS)
    assert KEY[:6] not in str(err.value)


def test_one_vendor_never_waits_past_its_total_retry_budget():
    def always_limited(exchange: Exchange) -> None:
        exchange.status, exchange.response_headers = 429, {"Retry-After": "1"}
        exchange.set_json({"status": "ERROR", "errors": ["slow down"]})

    started = time.monotonic()
    with running_proxy(None, always_limited) as vendor, client_for(vendor.url, attempts=50, max_total_wait_s=2.5
                                                                    ) as client, pytest.raises(VendorError) as err:
        client.get_json(PROJECTS)
    assert time.monotonic() - started < 6
    assert "retry wait budget spent" in str(err.value) and "HTTP 429" in str(err.value)
