"""Integr8 over HTTP: directory paging, report cursors, and conforming rows to one Arrow schema."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.compute as pc

from sources.common.paging import CursorPaginator, PageNumberPaginator, paginate
from sources.integr8 import settings
from vendor_http import HeaderAuth, VendorClient


def make_client(base_url: str, api_key: str) -> VendorClient:
    return VendorClient(settings.VENDOR, base_url, auth=HeaderAuth("API-KEY", api_key), secrets=[api_key])


def wall_time(moment: datetime, tz: str) -> str:
    """A UTC instant as Integr8's `YYYY-MM-DD HH:MM:SS` wall-clock time in `tz`."""
    return moment.astimezone(ZoneInfo(tz)).strftime(settings.TIME_FORMAT)


def directory(client: VendorClient, path: str, endpoint: str) -> Iterator[list[dict[str, Any]]]:
    """Every page of a page-number listing (`page[number]`, `meta.total_page`)."""
    paginator = PageNumberPaginator("data", "meta.total_page", "page[number]")
    yield from paginate(client, path, endpoint, paginator, {"page[size]": settings.MAX_PAGE_SIZE})


def report_rows(
    client: VendorClient, report: str, integration_id: str, start: datetime, end: datetime, tz: str, page_size: int
) -> list[dict[str, Any]]:
    """All rows of one report window, following `page[after]` = endCursor while hasNextPage."""
    params = {
        "integration_id": integration_id,
        "start_time": wall_time(start, tz),
        "end_time": wall_time(end, tz),
        "timezone": tz,
        "page[size]": page_size,
    }
    paginator = CursorPaginator("data.data", "data.pageInfo.endCursor", "page[after]",
                                has_next_path="data.pageInfo.hasNextPage")
    return [row for page in paginate(client, settings.REPORT_PATH.format(report=report), f"GET reports/v2/{report}",
                                     paginator, params) for row in page]


def raw_schema(table: str, fields: list[str]) -> pa.Schema:
    """Types as they arrive: wall-clock times still text."""
    return pa.schema(
        [
            (f, pa.string() if settings.FIELDS[table][f] == settings.WALL_TIME else settings.FIELDS[table][f])
            for f in fields
        ]
    )


def conform(table: str, data: pa.Table, tz: str) -> pa.Table:
    """Wall-clock times in `tz` become UTC timestamps; everything else already has its type."""
    columns = []
    for name in data.column_names:
        column = data.column(name)
        if settings.FIELDS[table][name] == settings.WALL_TIME:
            naive = pc.strptime(column, format=settings.TIME_FORMAT, unit="s", error_is_null=False)
            local = pc.assume_timezone(naive, timezone=tz, ambiguous="earliest", nonexistent="earliest")
            column = local.cast(pa.timestamp("us", tz="UTC"))
        columns.append(column)
    key = settings.TABLES[table].primary_key
    schema = pa.schema(
        [pa.field(name, col.type, nullable=name != key) for name, col in zip(data.column_names, columns, strict=True)]
    )
    return pa.Table.from_arrays(columns, schema=schema)


def rows_to_arrow(table: str, rows: list[dict[str, Any]], fields: list[str], tz: str) -> pa.Table:
    projected = [{f: row.get(f) for f in fields} for row in rows]
    return conform(table, pa.Table.from_pylist(projected, schema=raw_schema(table, fields)), tz)


def column_hints(table: str, fields: list[str], primary_key: str) -> dict[str, dict[str, Any]]:
    names = {pa.string(): "text", pa.float64(): "double", pa.int64(): "bigint", pa.bool_(): "bool"}
    hints: dict[str, dict[str, Any]] = {}
    for field in fields:
        kind = settings.FIELDS[table][field]
        hints[field] = {
            "data_type": "timestamp" if kind == settings.WALL_TIME else names[kind],  # type: ignore[index]
            "nullable": field != primary_key,
        }
    return hints
