"""The paging styles (`sources/common/paging.py`) against a small local server that answers scripted pages
through the real client: each style follows its vendor's protocol, and misbehaving listings fail naming the
vendor and the endpoint instead of looping or losing records. Seconds, no sandbox."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from sources.common.paging import CursorPaginator, OffsetPaginator, PageNumberPaginator, paginate
from tests.scripted import scripted_vendor
from vendor_http import RetryPolicy, VendorClient, VendorError

pytestmark = pytest.mark.fast
Answer = Callable[[dict[str, str]], Any]


@contextmanager
def vendor(answer: Answer) -> Iterator[tuple[VendorClient, list[dict[str, str]]]]:
    """A client of a scripted vendor whose every GET is answered by `answer(query)`; the queries it got."""
    with scripted_vendor(lambda asked: (200, answer(asked.query))) as (url, asked), \
            VendorClient("Acme", url, retry=RetryPolicy(attempts=1)) as client:
        queries: list[dict[str, str]] = []
        yield client, queries
        queries.extend(a.query for a in asked)


def read(client: VendorClient, paginator: Any, **params: Any) -> list[Any]:
    return [r for page in paginate(client, "/list", "GET list", paginator, params) for r in page]


def cursor_pages(query: dict[str, str]) -> dict[str, Any]:
    """Three pages: a, (empty, announcing another), b; cursors c1, c2, then null."""
    step = {None: ([1, 2], "c1"), "c1": ([], "c2"), "c2": ([3], None)}[query.get("cursor")]
    return {"items": step[0], "cursor": {"next": step[1]}}


def test_a_cursor_listing_follows_each_cursor_and_an_empty_page_that_announces_more():
    with vendor(cursor_pages) as (client, asked):
        assert read(client, CursorPaginator("items", "cursor.next", "cursor"), limit=2) == [1, 2, 3]
    assert [q.get("cursor") for q in asked] == [None, "c1", "c2"]
    assert all(q["limit"] == "2" for q in asked)


def test_a_repeated_cursor_fails_instead_of_looping():
    with vendor(lambda q: {"items": [1], "cursor": {"next": "same"}}) as (client, _), \
            pytest.raises(VendorError, match=r"^Acme: GET list failed .*cursor 'same' missing or repeated"):
        read(client, CursorPaginator("items", "cursor.next", "cursor"))


def test_endless_empty_pages_fail_after_three():
    pages = iter(range(100))
    with vendor(lambda q: {"items": [], "cursor": {"next": f"c{next(pages)}"}}) as (client, asked), \
            pytest.raises(VendorError, match="3 empty pages in a row"):
        read(client, CursorPaginator("items", "cursor.next", "cursor"))
    assert len(asked) == 3


def test_a_page_without_the_cursor_object_is_malformed_not_the_end():
    with vendor(lambda q: {"items": [1]}) as (client, _), \
            pytest.raises(VendorError, match="response has no items list or cursor"):
        read(client, CursorPaginator("items", "cursor.next", "cursor"))


def test_a_cursor_with_a_has_next_flag_stops_on_the_flag():
    def answer(query: dict[str, str]) -> dict[str, Any]:
        last = query.get("page[after]") == "e1"
        return {"data": {"data": [query.get("page[after]", "start")],
                         "pageInfo": {"hasNextPage": not last, "endCursor": "e1"}}}

    paginator = CursorPaginator("data.data", "data.pageInfo.endCursor", "page[after]",
                                has_next_path="data.pageInfo.hasNextPage")
    with vendor(answer) as (client, _):
        assert read(client, paginator) == ["start", "e1"]


def test_page_numbers_run_to_the_reported_page_count():
    def answer(query: dict[str, str]) -> dict[str, Any]:
        number = int(query["page[number]"])
        return {"data": [] if number == 2 else [number], "meta": {"total_page": 3}}

    with vendor(answer) as (client, asked):
        assert read(client, PageNumberPaginator("data", "meta.total_page", "page[number]")) == [1, 3]
    assert [q["page[number]"] for q in asked] == ["1", "2", "3"]


def test_page_numbers_without_meta_are_malformed():
    with vendor(lambda q: {"data": [1]}) as (client, _), \
            pytest.raises(VendorError, match="response has no data list or meta"):
        read(client, PageNumberPaginator("data", "meta.total_page", "page[number]"))


RECORDS = [{"id": i} for i in range(5)]


def offsets(served: Callable[[int], list[dict[str, Any]]], total: int = len(RECORDS)) -> Answer:
    return lambda query: {"data": served(int(query["offset"])), "offset": int(query["offset"]), "total": total}


def offset_paginator() -> OffsetPaginator:
    return OffsetPaginator("data", "total", "offset", "offset", record_id=lambda r: r.get("id"))


def test_offsets_follow_the_served_offset_and_pass_a_repeated_record_once():
    # the second page repeats the first page's last record (a record was inserted before it meanwhile)
    pages = {0: RECORDS[:2], 2: RECORDS[1:]}
    with vendor(offsets(pages.__getitem__)) as (client, asked):
        assert read(client, offset_paginator()) == RECORDS
    assert [q["offset"] for q in asked] == ["0", "2"]


def test_offsets_that_skip_records_fail_the_listing():
    # the pages shifted after the first one: record 2 is never shown, though the total counts it
    pages = {0: RECORDS[:2], 2: RECORDS[3:], 4: RECORDS[4:]}
    with vendor(offsets(pages.__getitem__)) as (client, _), \
            pytest.raises(VendorError, match=r"read 4 distinct records of the 5 the listing reports"):
        read(client, offset_paginator())

