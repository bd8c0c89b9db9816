"""The shared client against the sandbox: Retry-After honoured, hopeless waits refused, secrets redacted."""

from __future__ import annotations

import logging
import time

import pytest

from simulator.credentials import CREDENTIALS
from simulator.process import running_sandbox
from vendor_http import HeaderAuth, Redactor, RetryPolicy, VendorAuthError, VendorClient, VendorError

KEY = CREDENTIALS["clickmagick"]["api_key"]


def cm_client(sandbox, key: str = KEY, **retry) -> VendorClient:
    return VendorClient("ClickMagick", sandbox.vendor_url("clickmagick"), auth=HeaderAuth("X-APIKEY", key),
                        secrets=[key], retry=RetryPolicy(**retry))


def test_429_waits_at_least_retry_after(fresh_sandbox):
    fresh_sandbox.set_faults(rate_429=0.3, storm_length=2, retry_after=1)
    started = time.monotonic()
    with cm_client(fresh_sandbox) as client:
        for _ in range(15):
            assert client.get_json("/v1/campaigns/projects")["status"] == "OK"
    elapsed = time.monotonic() - started
    refused = fresh_sandbox.control("GET", "faults")["counts"]["429"]
    assert refused >= 2
    assert elapsed >= refused * 1.0  # each refusal announced one second


def test_transient_failures_are_retried_then_reported_with_vendor_and_endpoint(fresh_sandbox):
    fresh_sandbox.set_faults(rate_5xx=1.0)
    with cm_client(fresh_sandbox, attempts=3, backoff_s=0.01) as client, pytest.raises(VendorError) as failure:
        client.get_json("/v1/campaigns/projects")
    assert str(failure.value).startswith("ClickMagick: GET /v1/campaigns/projects failed (HTTP 5")
    assert "gave up after 3 attempts" in str(failure.value)
    assert client.retries == 2


def test_retry_after_beyond_the_ceiling_fails_clearly():
    with running_sandbox(seed=2, scale=0.05, work_budget=5) as sb, cm_client(sb, max_retry_after_s=60) as client:
        window = {"start_time": "2026-09-01T00:00:00Z", "end_time": "2026-09-03T00:00:00Z"}
        client.get_json("/v1/campaigns/sales", params=window)  # 3 units of 5
        with pytest.raises(VendorError) as failure:
            client.get_json("/v1/campaigns/sales", params=window)
    assert "ClickMagick" in str(failure.value) and "Retry-After" in str(failure.value)
    assert failure.value.status == 429


def test_bad_key_is_an_auth_error_and_never_printed(sandbox, caplog):
    caplog.set_level(logging.DEBUG)
    with cm_client(sandbox, key="secret-key-42") as client, pytest.raises(VendorAuthError) as failure:
        client.get_json("/v1/campaigns/projects")
    assert failure.value.status == 401 and client.retries == 0
    assert "secret-key-42" not in str(failure.value) + caplog.text


def test_redactor_hides_secrets_and_signed_parameters():
    redact = Redactor(["abcd1234"])
    text = redact("key abcd1234 at https://x.test/a.zip?expires=1&signature=deadbeef&token=t0k")
    assert "abcd1234" not in text and "deadbeef" not in text and "t0k" not in text
    assert "expires=1" in text
