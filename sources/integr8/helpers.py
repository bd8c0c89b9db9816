"""Integr8 over HTTP: directory paging, report cursors, and conforming rows to one Arrow schema."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.compute as pc

from sources.common.contract import AMOUNT
from sources.common.drift import with_undocumented
from sources.common.paging import CursorPaginator, PageNumberPaginator, paginate
from sources.integr8 import settings
from vendor_http import HeaderAuth, VendorClient, VendorError


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


def conform(table: str, data: pa.Table, tz: str, endpoint: str) -> pa.Table:
    """Wall-clock times in `tz` become UTC timestamps; everything else already has its type. A time that is no
    time fails naming its column, record and value, as any value that does not fit its type on this path."""
    columns = []
    for name in data.column_names:
        column = data.column(name)
        if settings.FIELDS[table][name] == settings.WALL_TIME:
            naive = pc.strptime(column, format=settings.TIME_FORMAT, unit="s", error_is_null=True)
            if naive.null_count > column.null_count:
                raise unreadable_time(table, name, data.filter(pc.and_(pc.is_valid(column), pc.is_null(naive))),
                                      endpoint)
            local = pc.assume_timezone(naive, timezone=tz, ambiguous="earliest", nonexistent="earliest")
            column = local.cast(pa.timestamp("us", tz="UTC"))
        columns.append(column)
    key = settings.TABLES[table].primary_key
    schema = pa.schema(
        [pa.field(name, col.type, nullable=name != key) for name, col in zip(data.column_names, columns, strict=True)]
    )
    return pa.Table.from_arrays(columns, schema=schema)


def unreadable_time(table: str, column: str, rows: pa.Table, endpoint: str) -> VendorError:
    """The error for `rows`, whose `column` holds text that is no time: the first named, the others counted."""
    key = settings.TABLES[table].primary_key
    first = rows.slice(0, 1).to_pylist()[0]
    others = f" (and {rows.num_rows - 1:,} more in the same batch)" if rows.num_rows > 1 else ""
    return VendorError(settings.VENDOR, endpoint, f"column {table}.{column} of record {first.get(key)!r}: "
                       f"{first[column]!r} is not a time as documented ({settings.TIME_FORMAT}){others}")


def rows_to_arrow(table: str, rows: list[dict[str, Any]], fields: list[str], tz: str,
                  endpoint: str = "GET reports/v2") -> pa.Table:
    """The report's rows as the table's typed Arrow batch; a value of the wrong type fails naming its column.

    A field no row carries is left out of the batch, and fields the documentation does not have are named in
    its metadata (sources.common.drift): absent is not null."""
    sent = set().union(*(row.keys() for row in rows)) if rows else set(fields)
    fields = present(table, fields, sent, endpoint)
    projected = [{f: row.get(f) for f in fields} for row in rows]
    schema = raw_schema(table, fields)
    try:
        typed = conform(table, pa.Table.from_pylist(projected, schema=schema), tz, endpoint)
        return with_undocumented(typed, sent - set(settings.FIELDS[table]))
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise mistyped(table, schema, projected, endpoint) or VendorError(settings.VENDOR, endpoint,
                                                                          f"{table}: {exc}") from exc


def present(table: str, fields: list[str], sent: set[str] | list[str], endpoint: str) -> list[str]:
    """The requested `fields` the vendor sent; without the record's key or time it cannot be loaded at all."""
    spec = settings.TABLES[table]
    lost = [f for f in (spec.primary_key, spec.cursor) if f not in sent]
    if lost:
        raise VendorError(settings.VENDOR, endpoint, f"{table} records arrived without {', '.join(lost)}, which "
                          "the documentation says every record has")
    return [f for f in fields if f in sent]


def mistyped(table: str, schema: pa.Schema, rows: list[dict[str, Any]], endpoint: str) -> VendorError | None:
    """The first value that does not fit its column, as an error naming table, column, record and value."""
    key = settings.TABLES[table].primary_key
    for field in schema:
        for row in rows:
            try:
                pa.array([row[field.name]], type=field.type)
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                return VendorError(settings.VENDOR, endpoint, f"column {table}.{field.name} of record "
                                   f"{row.get(key)!r}: {row[field.name]!r} is not {field.type} as documented")
    return None


def csv_column_error(table: str, header: list[str], exc: Exception, endpoint: str) -> VendorError:
    """Arrow's CSV error ("In CSV column #3: ... invalid value 'x'") with the column's name from the header."""
    text = str(exc)
    found = re.search(r"column #(\d+)", text)
    column = header[int(found[1])] if found and int(found[1]) < len(header) else None
    where = f"column {table}.{column}" if column else f"table {table}"
    return VendorError(settings.VENDOR, endpoint, f"{where}: {text.splitlines()[0]} (not the documented type)")


def column_hints(table: str, fields: list[str], primary_key: str) -> dict[str, dict[str, Any]]:
    names = {pa.string(): "text", pa.float64(): "double", pa.int64(): "bigint", pa.bool_(): "bool"}
    hints: dict[str, dict[str, Any]] = {}
    for field in fields:
        kind = settings.FIELDS[table][field]
        hints[field] = {
            "data_type": "timestamp" if kind == settings.WALL_TIME else names[kind],  # type: ignore[index]
            "nullable": field != primary_key,
            **({AMOUNT: True} if kind == pa.float64() else {}),  # Integr8's numbers are all money
        }
    return hints
