"""A download streams into a file, never into memory, and one dropped midway is fetched again from its start
(seconds, a scripted vendor on loopback, no sandbox)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator

import pytest

from tests.scripted import Cut, scripted_vendor
from vendor_http import RetryPolicy, VendorClient, VendorError

pytestmark = pytest.mark.fast
QUICK = RetryPolicy(backoff_s=0.001, backoff_max_s=0.001)
BODY = bytes(range(256)) * 40_000  # 10 MB


def download(answers: Iterator[tuple[int, object]]):
    with scripted_vendor(lambda _: next(answers)) as (url, asked), VendorClient("Acme", url, retry=QUICK) as client, \
            tempfile.TemporaryFile() as into:
        try:
            response = client.request("GET", "/artifact.zip", ok=(200, 403), into=into)
        except VendorError as exc:
            return asked, exc, None
        into.seek(0)
        return asked, response, into.read()


def test_a_download_streams_into_the_file_and_not_into_the_response():
    asked, response, saved = download(iter([(200, BODY)]))
    assert saved == BODY and len(asked) == 1
    assert response.status_code == 200 and response.is_stream_consumed


def test_a_download_dropped_midway_is_fetched_again_from_its_start():
    asked, _, saved = download(iter([(200, Cut(BODY[:3_000_000], len(BODY))), (200, BODY)]))
    assert len(asked) == 2 and saved == BODY


def test_an_answer_that_is_not_a_success_keeps_its_text_and_leaves_the_file_empty():
    _, response, saved = download(iter([(403, {"error": "expired"})]))
    assert response.status_code == 403 and "expired" in response.text and saved == b""
    _, error, _ = download(iter([(404, {"error": "no such artifact"})]))
    assert isinstance(error, VendorError) and "no such artifact" in str(error)
