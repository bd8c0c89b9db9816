"""What the shared client repeats, against a scripted vendor on loopback (seconds, no sandbox): a call that
must not be repeated (it appends at the vendor) is retried only after answers that show the vendor did not act
on it; a poison answer is given up on after a few server errors, not a whole rate-limit budget."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from tests.scripted import Asked, scripted_vendor
from vendor_http import RetryPolicy, VendorClient, VendorError, VendorOutcomeUnknown

pytestmark = pytest.mark.fast
QUICK = {"backoff_s": 0.001, "backoff_max_s": 0.001}


def answers(*statuses: int) -> Iterator[int]:
    yield from statuses
    while True:
        yield 200


def post(statuses: Iterator[int], idempotent: bool, **retry) -> tuple[list[Asked], BaseException | None]:
    with scripted_vendor(lambda _: (next(statuses), {"ok": True})) as (url, asked), \
            VendorClient("Acme", url, retry=RetryPolicy(**{**QUICK, **retry})) as client:
        try:
            client.request("POST", "/v1/event_logs", json={"name": "sale"}, idempotent=idempotent)
        except VendorError as exc:
            return asked, exc
    return asked, None


@pytest.mark.parametrize("status", [500, 502, 504])
def test_an_appending_call_answered_ambiguously_is_sent_once(status):
    asked, error = post(answers(status), idempotent=False)
    assert len(asked) == 1
    assert isinstance(error, VendorOutcomeUnknown) and error.status == status
    assert "not sent again: the vendor may have acted on it" in str(error)


@pytest.mark.parametrize("status", [429, 503])
def test_an_appending_call_is_repeated_after_an_answer_that_it_was_not_processed(status):
    asked, error = post(answers(status, status), idempotent=False)
    assert error is None and len(asked) == 3


def test_an_idempotent_call_is_repeated_after_a_server_error():
    asked, error = post(answers(502, 500), idempotent=True)
    assert error is None and len(asked) == 3


def test_a_poison_answer_is_given_up_on_after_the_server_error_budget():
    asked, error = post(answers(*[500] * 100), idempotent=True, attempts=12, max_server_errors=3)
    assert len(asked) == 3
    assert isinstance(error, VendorError) and not isinstance(error, VendorOutcomeUnknown)
    assert "gave up after 3 server errors" in str(error)


def test_rate_limits_do_not_spend_the_server_error_budget():
    asked, error = post(answers(429, 429, 429, 500), idempotent=True, attempts=12, max_server_errors=2)
    assert error is None and len(asked) == 5


def test_a_vendor_nowhere_to_be_found_is_named_with_its_address_and_a_hint(caplog):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with VendorClient("Acme", f"http://127.0.0.1:{port}", retry=RetryPolicy(attempts=2, **QUICK)) as client, \
            pytest.raises(VendorError) as failure:
        client.get_json("/v1/projects")
    assert f"nothing answered at 127.0.0.1:{port}" in str(failure.value)
    assert "start the sandbox (`make sandbox`)" in str(failure.value)
    assert f"Acme at 127.0.0.1:{port}: GET /v1/projects" in caplog.text  # each retry says where
