"""Paging, once for every vendor: a paginator per style (a cursor in the body, page numbers, offsets with a
total), in the shape of dlt's REST paginators, and one loop (`paginate`) that drives any of them within the
bounds of a `PageGuard`, so a vendor whose pages never end fails clearly instead of holding the run (and its
lock) forever, and a listing that skipped records fails instead of losing them."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from typing import Any

from vendor_http import VendorClient, VendorError

MAX_EMPTY_PAGES = 3  # consecutive empty pages that still announce a next page
MAX_PAGES = 100_000  # pages of one listing; far above any real window


class PageGuard:
    def __init__(self, vendor: str, endpoint: str, max_empty: int = MAX_EMPTY_PAGES, max_pages: int = MAX_PAGES
                 ) -> None:
        self.vendor, self.endpoint = vendor, endpoint
        self.max_empty, self.max_pages = max_empty, max_pages
        self.pages = self.empty_in_a_row = 0
        self.ids: set[Hashable] = set()
        self.cursors: set[str] = set()
        self.anonymous = 0  # records without an id: counted, never taken for repeats

    def page(self, rows: int, has_next: bool) -> None:
        """Count a page; raise when the listing shows no sign of ending."""
        self.pages += 1
        self.empty_in_a_row = self.empty_in_a_row + 1 if rows == 0 and has_next else 0
        if self.empty_in_a_row >= self.max_empty:
            raise VendorError(self.vendor, self.endpoint,
                              f"{self.empty_in_a_row} empty pages in a row, each announcing another; paging stopped")
        if has_next and self.pages >= self.max_pages:
            raise VendorError(self.vendor, self.endpoint, f"more than {self.max_pages} pages; paging stopped")

    def cursor(self, cursor: str | None) -> str:
        """The cursor to follow; a missing or already-followed one fails (a vendor bug would loop forever)."""
        if not cursor or cursor in self.cursors:
            raise VendorError(self.vendor, self.endpoint, f"cursor {cursor!r} missing or repeated")
        self.cursors.add(cursor)
        return cursor

    def fresh(self, record_id: Hashable | None) -> bool:
        """False for a record this listing already returned (a vendor repeating one on a later page)."""
        if record_id is None:
            self.anonymous += 1
            return True
        if record_id in self.ids:
            return False
        self.ids.add(record_id)
        return True

    def check_total(self, total: int) -> None:
        """Every record the vendor says the listing holds was read; otherwise its pages skipped some."""
        read = len(self.ids) + self.anonymous
        if read < total:
            raise VendorError(self.vendor, self.endpoint,
                              f"read {read} distinct records of the {total} the listing reports; its pages "
                              "skipped records, so this window is not taken as read")


class Malformed(Exception):
    """A page that is not of the paginator's shape."""


def _at(body: Any, path: str, leaf_required: bool) -> Any:
    """The value at a dotted `path` of a JSON body. A missing container key is a malformed page; a null on the
    way, or a missing last key unless `leaf_required`, is None."""
    value = body
    *parents, leaf = path.split(".")
    try:
        for key in parents:
            if value is None:
                return None
            value = value[key]
        if value is None:
            return None
        return value[leaf] if leaf_required else value.get(leaf)
    except (KeyError, TypeError, AttributeError):
        raise Malformed(path) from None


class Paginator:
    """One paging style: the parameters of the first page, a page's records, and the parameters of the next page
    (None: the listing ended). `records_path` is where the records are (dotted, as dlt's `data_selector`)."""

    shape = ""  # what a page must hold, named in the error when it does not

    def __init__(self, records_path: str) -> None:
        self.records_path = records_path

    def first(self) -> dict[str, Any]:
        return {}

    def records(self, body: Any) -> list[Any]:
        found = _at(body, self.records_path, leaf_required=True)
        if not isinstance(found, list):
            raise Malformed(self.records_path)
        return found

    def next_params(self, body: Any, records: list[Any], guard: PageGuard) -> dict[str, Any] | None:
        raise NotImplementedError

    def keep(self, records: list[Any], guard: PageGuard) -> list[Any]:
        """The records of a page to pass on."""
        return records

    def finish(self, guard: PageGuard) -> None:
        """Checks once the listing ended."""


class CursorPaginator(Paginator):
    """A cursor in the body, sent back as the `param` query parameter (ClickMagick's `cursor.next`; Integr8's
    reports' `pageInfo.endCursor` while `pageInfo.hasNextPage`). A cursor missing or repeated fails."""

    def __init__(self, records_path: str, cursor_path: str, param: str, has_next_path: str | None = None) -> None:
        super().__init__(records_path)
        self.cursor_path, self.param, self.has_next_path = cursor_path, param, has_next_path
        self.shape = f"{records_path} list or {cursor_path.rsplit('.', 1)[0]}"

    def next_params(self, body: Any, records: list[Any], guard: PageGuard) -> dict[str, Any] | None:
        cursor = _at(body, self.cursor_path, leaf_required=False)
        has_next = bool(_at(body, self.has_next_path, leaf_required=False) if self.has_next_path else cursor)
        # An empty page that announces another is followed (bounded): ending there would lose the rest.
        guard.page(len(records), has_next)
        return {self.param: guard.cursor(cursor)} if has_next else None


class PageNumberPaginator(Paginator):
    """Page numbers from 1 (`number_param`) until the page count the body reports (`total_pages_path`)."""

    def __init__(self, records_path: str, total_pages_path: str, number_param: str) -> None:
        super().__init__(records_path)
        self.total_pages_path, self.number_param = total_pages_path, number_param
        self.shape = f"{records_path} list or {total_pages_path.rsplit('.', 1)[0]}"
        self.number = 1

    def first(self) -> dict[str, Any]:
        self.number = 1
        return {self.number_param: self.number}

    def next_params(self, body: Any, records: list[Any], guard: PageGuard) -> dict[str, Any] | None:
        has_next = self.number < int(_at(body, self.total_pages_path, leaf_required=False) or 0)
        guard.page(len(records), has_next)
        if not has_next:
            return None
        self.number += 1
        return {self.number_param: self.number}


class OffsetPaginator(Paginator):
    """Offsets over a listing of `total` records: the next offset follows the offset the vendor says it served
    (`offset_path`), a record repeated on a later page is passed on once (`record_id`), and at the end every one
    of `total` records must have been read, else the pages skipped some (a vendor shifting its pages)."""

    def __init__(self, records_path: str, total_path: str, offset_path: str, offset_param: str,
                 record_id: Callable[[Any], Hashable | None]) -> None:
        super().__init__(records_path)
        self.total_path, self.offset_path, self.offset_param = total_path, offset_path, offset_param
        self.record_id = record_id
        self.shape = f"{records_path}/{total_path}"
        self.offset = self.total = 0

    def first(self) -> dict[str, Any]:
        self.offset = 0
        return {self.offset_param: 0}

    def records(self, body: Any) -> list[Any]:
        self.total = int(_at(body, self.total_path, leaf_required=True))
        return super().records(body)

    def keep(self, records: list[Any], guard: PageGuard) -> list[Any]:
        return [record for record in records if guard.fresh(self.record_id(record))]

    def next_params(self, body: Any, records: list[Any], guard: PageGuard) -> dict[str, Any] | None:
        served = _at(body, self.offset_path, leaf_required=False)
        self.offset = (self.offset if served is None else int(served)) + len(records)
        has_next = self.offset < self.total
        guard.page(len(records), has_next)
        return {self.offset_param: self.offset} if has_next else None

    def finish(self, guard: PageGuard) -> None:
        guard.check_total(self.total)


def paginate(client: VendorClient, path: str, endpoint: str, paginator: Paginator,
             params: dict[str, Any] | None = None,
             check: Callable[[Any], Any] | None = None) -> Iterator[list[Any]]:
    """Every non-empty page of one listing, as `paginator` pages it, within a fresh `PageGuard`. `check` sees
    each body first (a vendor's own error envelope)."""
    guard = PageGuard(client.vendor, endpoint)
    page_params = paginator.first()
    while True:
        body = client.get_json(path, params={**(params or {}), **page_params}, endpoint=endpoint)
        if check is not None:
            check(body)
        try:
            records = paginator.records(body)
        except Malformed:
            raise VendorError(client.vendor, endpoint, f"response has no {paginator.shape}") from None
        kept = paginator.keep(records, guard)
        if kept:
            yield kept
        try:
            following = paginator.next_params(body, records, guard)
        except Malformed:
            raise VendorError(client.vendor, endpoint, f"response has no {paginator.shape}") from None
        if following is None:
            paginator.finish(guard)
            return
        page_params = following
