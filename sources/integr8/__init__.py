"""Integr8: advertisers, offers, publishers, and clicks / conversions / impressions / postback logs.

Event tables are read from the last high-water mark less a lookback (the table's restatement window and
some slack) up to now. A short range goes
through the Reports API in `window_hours` windows (cursor `page[after]`, 100 rows a page); a range
longer than `export_threshold_hours` (a backfill, a first run) goes through Download Center exports,
whose CSV is read straight into Arrow. Both paths yield the same typed Arrow tables, times in UTC.
Only new or changed rows are passed on (conversions change status) and appended: an event table is a log
of versions, whose current row per `real_tx_id` / `id` is the newest of a completed load.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import dlt
import pyarrow as pa
from dlt.sources import DltResource

from sources.common.incremental import contract_resources, dimension, lookback_resource, utc, windows
from sources.common.spec import SourceSpec
from sources.integr8 import exports, helpers, settings
from vendor_http import VendorClient


@dlt.source(name="integr8", section="integr8")
def integr8_source(
    base_url: str = dlt.config.value,
    api_key: str = dlt.secrets.value,
    integration_ids: Sequence[str] = dlt.config.value,
    initial_start: str = dlt.config.value,
    end_time: str | None = None,
    backfill_from: str | None = None,
    timezone: str = "UTC",
    window_hours: int = settings.DEFAULT_WINDOW_HOURS,
    lookback_hours: int | None = None,
    export_threshold_hours: int = settings.DEFAULT_EXPORT_THRESHOLD_HOURS,
    export_fields: dict[str, list[str]] | None = None,
    tables: Sequence[str] = tuple(settings.TABLES),
    page_size: int = settings.MAX_PAGE_SIZE,
    max_export_mb: int = settings.MAX_EXPORT_MB,
    max_export_rows: int = settings.MAX_EXPORT_ROWS,
) -> list[DltResource]:
    """Integr8 network data, incrementally, through reports or Download Center exports.

    Args:
        base_url: API root (the sandbox: `http://127.0.0.1:8765/integr8`).
        api_key: the `API-KEY` key.
        integration_ids: integrations to read.
        initial_start: ISO-8601 start of the first run's history.
        end_time: stop here instead of now. backfill_from: re-read from this date whatever the state says.
        timezone: the IANA zone requested from Integr8; its wall-clock times are stored as UTC.
        window_hours: report window width.
        lookback_hours: how far before the high-water mark to re-read every table; default: each table's
            restatement window plus slack (`settings.TABLES`: conversions 16 days, as refunds arrive up to
            14 days after the sale; the other tables 4 days).
        export_threshold_hours: ranges longer than this use the Download Center; 0 always exports.
        export_fields: per table, the fields to request (default: all known fields); reports are projected
            to the same fields so both paths give the same columns.
        tables: event tables to load (subset of clicks, conversions, impressions, postback_logs).
        page_size: report page size, 1..100.
        max_export_mb, max_export_rows: how large one export may be, its CSV uncompressed and its rows; a larger
            one (a zip bomb, or far more than expected) fails the vendor clearly instead of taking the memory.
    """
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"Integr8: unknown timezone {timezone!r}") from None
    if not integration_ids:
        raise ValueError("Integr8: integration_ids is empty; name at least one integration")
    if lookback_hours is not None and lookback_hours < 0:
        raise ValueError("Integr8: lookback_hours must not be negative")
    if not 1 <= page_size <= settings.MAX_PAGE_SIZE:
        raise ValueError(f"Integr8: page_size must be 1..{settings.MAX_PAGE_SIZE}")
    unknown = sorted(set(tables) - set(settings.TABLES))
    if unknown:
        raise ValueError(f"Integr8: unknown tables {unknown}; use {list(settings.TABLES)}")
    fields = {t: list(settings.FIELDS[t]) for t in settings.TABLES}
    for table, chosen in (export_fields or {}).items():
        key = settings.TABLES[table].primary_key
        bad = sorted(set(chosen) - set(settings.FIELDS[table]))
        if bad:
            raise ValueError(f"Integr8: unknown {table} fields {bad}")
        fields[table] = [key, *[f for f in chosen if f != key]]
        if settings.TABLES[table].cursor not in fields[table]:
            fields[table].append(settings.TABLES[table].cursor)
    integration_ids = list(dict.fromkeys(integration_ids))  # a repeated id would load its rows twice
    client = helpers.make_client(base_url, api_key)
    start, stop = utc(initial_start), utc(end_time) if end_time else None
    backfill = utc(backfill_from) if backfill_from else None
    plan = Plan(window=timedelta(hours=window_hours), threshold=timedelta(hours=export_threshold_hours),
                limits=exports.Limits(max_bytes=max_export_mb * 2**20, max_rows=max_export_rows))

    @dimension("advertisers", primary_key="id")
    def advertisers() -> Iterator[list[dict[str, Any]]]:
        yield from helpers.directory(client, settings.ADVERTISERS_PATH, "GET advertisers")

    @dimension("offers", primary_key=["integration_id", "id"])
    def offers() -> Iterator[list[dict[str, Any]]]:
        for integration in integration_ids:
            path = settings.OFFERS_PATH.format(integration_id=integration)
            for page in helpers.directory(client, path, "GET offers"):
                yield [{"integration_id": integration, **offer} for offer in page]

    @dimension("publishers", primary_key="id")
    def publishers() -> Iterator[list[dict[str, Any]]]:
        yield from helpers.directory(client, settings.PUBLISHERS_PATH, "GET publishers")

    def events(table: str) -> DltResource:
        spec = settings.TABLES[table]

        def read(begin: datetime, end: datetime) -> Iterator[pa.Table]:
            yield from read_range(client, table, integration_ids, begin, end, timezone, fields[table], plan, page_size)

        lookback = timedelta(hours=spec.lookback_hours if lookback_hours is None else lookback_hours)
        # Appended, not merged: a million-row export is copied into the warehouse once (a merge copies it
        # into staging, then again into the table). The table is a log of the versions each load passed on;
        # staging models read the newest version of completed loads (the dbt macro `latest_loaded`), and
        # pipelines.recovery removes a killed copy's rows before dlt copies the file again.
        # parallelized: the tables' exports are requested and polled side by side.
        return lookback_resource(table, primary_key=spec.primary_key, cursor_field=spec.cursor, read=read,
                                 initial=start, lookback=lookback, stop=stop, backfill=backfill,
                                 write_disposition=settings.EVENT_WRITE_DISPOSITION, parallelized=True,
                                 columns=helpers.column_hints(table, fields[table], spec.primary_key))

    return [*contract_resources(), advertisers, offers, publishers, *(events(t) for t in tables)]


class Plan:
    """Which path reads a range: reports in small windows, or Download Center exports in large chunks."""

    def __init__(self, window: timedelta, threshold: timedelta, limits: exports.Limits) -> None:
        self.window, self.threshold, self.limits = window, threshold, limits

    def uses_exports(self, table: str, begin: datetime, end: datetime) -> bool:
        return settings.TABLES[table].report is None or end - begin > self.threshold


def read_range(client: VendorClient, table: str, integrations: Sequence[str], begin: datetime, end: datetime,
               tz: str, fields: list[str], plan: Plan, page_size: int) -> Iterator[pa.Table]:
    if plan.uses_exports(table, begin, end):
        requests = [exports.Export(table, integration, lo, hi) for integration in integrations
                    for lo, hi in windows(begin, end, timedelta(days=settings.EXPORT_CHUNK_DAYS))]
        yield from exports.export_tables(client, requests, tz, fields, limits=plan.limits)
        return
    report = settings.TABLES[table].report
    for integration in integrations:
        for lo, hi in windows(begin, end, plan.window):
            rows = helpers.report_rows(client, report, integration, lo, hi, tz, page_size)  # type: ignore[arg-type]
            yield helpers.rows_to_arrow(table, rows, fields, tz, endpoint=f"GET reports/v2/{report}")


SPEC = SourceSpec("integr8", integr8_source, ("api_key",))
