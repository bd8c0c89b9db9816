"""Bounds on every paging loop, so a vendor whose pages never end fails clearly instead of holding the
run (and its lock) forever, and a listing that skipped records fails instead of losing them."""

from __future__ import annotations

from collections.abc import Hashable

from sources.common.http import VendorError

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
