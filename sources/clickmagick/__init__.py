"""ClickMagick: projects, project settings, actions / engagements / sales with each model's credits, and
stats reports (clicks, unique clicks and Auto Cost).

Conversions are read in time windows (`window_hours`) from the last high-water mark less a lookback
(`lookback_hours`) up to now, following `cursor.next` to the end of every window. Each conversion
carries a nested `credits` list (table `<kind>__credits`): the clicks every configured attribution
model credits, with `attribution_model` and `share`. Re-read records are passed on only when their
content changed, and merged on `id`, so re-runs never duplicate. Each model is one listing, and ClickMagick
meters work: a window is listed with one model first (`settings.PATH_MODEL`, which credits every click of
the path, so a changed path shows in it), and with the others only around the records that changed. Each
run asks one stats report per project over the whole history (ClickMagick computes it; reach in unique
visitors does not add up across windows): tables `stats_days` and `stats_reach`, loaded only when their content changed.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

import dlt
from dlt.sources import DltResource

from sources.clickmagick import helpers, settings
from sources.common.incremental import contract_resources, dimension, lookback_resource, now_utc, utc, windows
from sources.common.spec import SourceSpec


@dlt.source(name="clickmagick", section="clickmagick", max_table_nesting=1)
def clickmagick_source(
    base_url: str = dlt.config.value,
    api_key: str = dlt.secrets.value,
    initial_start: str = dlt.config.value,
    end_time: str | None = None,
    backfill_from: str | None = None,
    window_hours: int = settings.DEFAULT_WINDOW_HOURS,
    lookback_hours: int = settings.DEFAULT_LOOKBACK_HOURS,
    attribution_models: Sequence[str] = settings.ATTRIBUTION_MODELS,
    utm_filters: dict[str, str] | None = None,
    page_size: int = settings.MAX_PAGE_SIZE,
    stats: bool = True,
) -> list[DltResource]:
    """ClickMagick conversions and the vendor's own attribution, incrementally.

    Args:
        base_url: API root, e.g. `https://api.clickmagick.com` (the sandbox: `http://127.0.0.1:8765/clickmagick`).
        api_key: the `X-APIKEY` key.
        initial_start: ISO-8601 start of the first run's history.
        end_time: stop windows here instead of now (backfills, tests).
        backfill_from: re-read everything from this ISO date, whatever the state says (merged, no duplicates).
        window_hours: width of each request window.
        lookback_hours: how far before the high-water mark each run re-reads.
        attribution_models: models whose credited clicks are stored; empty keeps conversions only.
        utm_filters: optional `utm_*` equality filters applied by ClickMagick.
        page_size: records per page, 1..100.
        stats: load each project's stats report (clicks, unique clicks and Auto Cost per day and UTM
            source/medium/campaign, and per UTM value over the whole history: the channels' reach).
    """
    models = list(attribution_models)
    unknown = sorted(set(models) - set(settings.ATTRIBUTION_MODELS))
    if unknown:
        raise ValueError(f"ClickMagick: unknown attribution models {unknown}; use {settings.ATTRIBUTION_MODELS}")
    filters = dict(utm_filters or {})
    if set(filters) - set(settings.UTM_FILTERS):
        raise ValueError(f"ClickMagick: utm_filters keys must be among {settings.UTM_FILTERS}")
    if not 1 <= page_size <= settings.MAX_PAGE_SIZE:
        raise ValueError(f"ClickMagick: page_size must be 1..{settings.MAX_PAGE_SIZE}")
    if window_hours <= 0 or lookback_hours < 0:
        raise ValueError("ClickMagick: window_hours must be positive and lookback_hours not negative")
    client = helpers.make_client(base_url, api_key)
    start = utc(initial_start)
    stop = utc(end_time) if end_time else None
    backfill = utc(backfill_from) if backfill_from else None

    @functools.cache
    def project_list() -> tuple[dict[str, Any], ...]:  # fetched once, read by both project resources
        return tuple(helpers.list_projects(client))

    @dimension("projects", primary_key="id")
    def projects() -> Iterator[list[dict[str, Any]]]:
        yield list(project_list())

    @dimension("project_settings", primary_key="id",
               columns={"project_domain": {"data_type": "text"}, "attribution_window": {"data_type": "bigint"}})
    def project_settings() -> Iterator[list[dict[str, Any]]]:
        ids = [p["id"] for p in project_list()]
        yield helpers.project_settings(client, ids)

    @functools.cache
    def stats_reports() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:  # read by both stats resources
        end = stop or now_utc().replace(microsecond=0)
        # Windows reaching into the last 24 hours change as clicks come in: never take a cached copy.
        refresh = end > now_utc() - timedelta(hours=24)
        # Every project's report is asked for first, so ClickMagick computes them while we wait on the first.
        asked = [(project["id"], helpers.create_stats_report(client, project["id"], start, end, refresh=refresh))
                 for project in project_list()]
        days: list[dict[str, Any]] = []
        reach: list[dict[str, Any]] = []
        for project_id, report_id in asked:
            project_days, project_reach = helpers.stats_rows(project_id, helpers.read_stats_report(client, report_id),
                                                             start)
            days += project_days
            reach += project_reach
        return days, reach

    @dimension("stats_days", primary_key="row_key", columns=settings.STATS_DAY_COLUMNS)
    def stats_days() -> Iterator[list[dict[str, Any]]]:
        yield stats_reports()[0]

    @dimension("stats_reach", primary_key="row_key", columns=settings.STATS_REACH_COLUMNS)
    def stats_reach() -> Iterator[list[dict[str, Any]]]:
        yield stats_reports()[1]

    probe = settings.PATH_MODEL if settings.PATH_MODEL in models else None
    others = [model for model in models if model != probe]

    def conversions(kind: str) -> DltResource:
        def read(begin: datetime, end: datetime) -> Iterator[list[dict[str, Any]]]:
            for lo, hi in windows(begin, end, timedelta(hours=window_hours)):
                # Without the path model, a change in another model's credits shows only when read: read all.
                yield _read_window(client, kind, [probe] if probe else models, lo, hi, page_size, filters)

        def complete(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
            """The other models' credits of these changed records, listed over the span they cover."""
            times = [row[settings.CURSOR] for row in rows if isinstance(row[settings.CURSOR], datetime)]
            if not times:  # none has a time to list them by: the contract rejects them all
                return rows
            hi = max(times) + timedelta(seconds=1)  # ClickMagick times are whole seconds
            return _with_credits(client, kind, others, rows, min(times), hi, page_size, filters)

        # parallelized: the kinds are read side by side, so waiting on ClickMagick overlaps our processing.
        return lookback_resource(kind, primary_key=settings.PRIMARY_KEY, cursor_field=settings.CURSOR, read=read,
                                 complete=complete if probe and others else None, initial=start,
                                 lookback=timedelta(hours=lookback_hours), stop=stop, backfill=backfill,
                                 parallelized=True, columns=settings.CONVERSION_COLUMNS,
                                 nested_hints={"credits": dlt.mark.make_nested_hints(columns=settings.CREDIT_COLUMNS)})

    resources = [*contract_resources(), projects, project_settings, *(conversions(kind) for kind in settings.KINDS)]
    return resources + ([stats_days, stats_reach] if stats else [])


def _read_window(client: helpers.VendorClient, kind: str, models: list[str], lo: Any, hi: Any, page_size: int,
                 filters: dict[str, str]) -> list[dict[str, Any]]:
    """All conversions of one window, each with the credits of `models` (one listing per model)."""
    by_id: dict[Any, dict[str, Any]] = {}
    credited: set[tuple[Any, str]] = set()  # a record the vendor repeats must not add its credits twice
    for model in models or [None]:
        for page in helpers.conversion_pages(client, kind, model, lo, hi, page_size, filters):
            for record in page:
                row = by_id.setdefault(record["id"], {**helpers.conversion_row(record), "credits": []})
                _credit(row, model, record, credited)
    return helpers.ordered(list(by_id.values()))


def _with_credits(client: helpers.VendorClient, kind: str, models: list[str], rows: list[dict[str, Any]], lo: Any,
                  hi: Any, page_size: int, filters: dict[str, str]) -> list[dict[str, Any]]:
    """`rows` with the credits of `models` added, listed over [lo, hi); other records listed there are left."""
    by_id = {row["id"]: row for row in rows}
    credited: set[tuple[Any, str]] = set()
    for model in models:
        for page in helpers.conversion_pages(client, kind, model, lo, hi, page_size, filters):
            for record in page:
                if record["id"] in by_id:
                    _credit(by_id[record["id"]], model, record, credited)
    return rows


def _credit(row: dict[str, Any], model: str | None, record: dict[str, Any], credited: set[tuple[Any, str]]) -> None:
    if model and (record["id"], model) not in credited:
        credited.add((record["id"], model))
        row["credits"].extend(helpers.credit_rows(model, record))


SPEC = SourceSpec("clickmagick", clickmagick_source, ("api_key",))
