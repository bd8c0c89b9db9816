"""ClickMagick over HTTP: auth, cursor paging, and the shape of a conversion with its credits."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from sources.clickmagick import settings
from sources.common.contract import moment_or_raw
from sources.common.paging import CursorPaginator, paginate
from sources.common.polling import poll_until
from vendor_http import HeaderAuth, VendorClient, VendorError


def make_client(base_url: str, api_key: str) -> VendorClient:
    return VendorClient(settings.VENDOR, base_url, auth=HeaderAuth("X-APIKEY", api_key), secrets=[api_key])


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def list_projects(client: VendorClient) -> list[dict[str, Any]]:
    body = client.get_json(settings.PROJECTS_PATH)
    return _ok(client, body, "GET projects")["projects"]


def project_settings(client: VendorClient, project_ids: list[int]) -> list[dict[str, Any]]:
    if not project_ids:
        return []
    body = client.get_json(settings.SETTINGS_PATH, params=[("id", str(i)) for i in project_ids])
    return _ok(client, body, "GET projects/settings")["projects"]


def conversion_pages(client: VendorClient, kind: str, model: str | None, start: datetime, end: datetime,
                     page_size: int, utm_filters: dict[str, str]) -> Iterator[list[dict[str, Any]]]:
    """Every page of one kind and model in [start, end), following `cursor.next` until it is null."""
    path = f"{settings.API_PREFIX}/{kind}" + (f"/{model}" if model else "")
    endpoint = f"GET {kind}" + (f"/{model}" if model else "")
    params = {"start_time": iso(start), "end_time": iso(end), "limit": page_size, **utm_filters}
    yield from paginate(client, path, endpoint, CursorPaginator(kind, "cursor.next", "cursor"), params,
                        check=lambda body: _ok(client, body, endpoint))


def create_stats_report(client: VendorClient, project_id: int, start: datetime, end: datetime, *,
                        refresh: bool) -> int:
    """Ask for one project's stats report over [start, end); its id. `refresh` asks ClickMagick to compute it
    anew rather than serve a cached copy."""
    create = "POST projects/stats"
    form = {"start_time": iso(start), "end_time": iso(end), "refresh": "true" if refresh else "false"}
    body = _ok(client, client.json(client.request("POST", settings.STATS_CREATE_PATH.format(project_id=project_id),
                                                  data=form, endpoint=create), create), create)
    if "report_id" not in body:
        raise VendorError(client.vendor, create, "response has no report_id")
    return body["report_id"]


def read_stats_report(client: VendorClient, report_id: int,
                      timeout_s: float = settings.STATS_TIMEOUT_S) -> dict[str, Any]:
    """A stats report once ready: polled (202 with its progress) with backoff until 200, or an error after
    `timeout_s`."""
    read = "GET projects/stats/reports"
    path = settings.STATS_REPORT_PATH.format(report_id=report_id)

    def ready() -> dict[str, Any] | None:
        response = client.request("GET", path, ok=(200, 202), endpoint=read)
        answer = _ok(client, client.json(response, read), read)
        if response.status_code == 202:
            return None
        if not isinstance(answer.get("stats"), dict):
            raise VendorError(client.vendor, read, f"report {report_id} has no stats")
        return answer

    return poll_until(ready, vendor=client.vendor, endpoint=read, what=f"stats report {report_id}",
                      timeout_s=timeout_s, first_s=settings.STATS_POLL_FIRST_S, max_s=settings.STATS_POLL_MAX_S)


def stats_rows(project_id: int, report: dict[str, Any], start: datetime
               ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A report as rows: (per day and UTM source/medium/campaign, per UTM dimension value and the total)."""
    stats = report["stats"]
    # Only what the figures cover from: a window end or report time that moves on every run would make a run
    # with no new click load every row again.
    window = {"window_start": start}

    def figures(row: dict[str, Any]) -> dict[str, Any]:
        return {"clicks": int(row["clicks"]), "unique_clicks": int(row["unique_clicks"]), "cost": float(row["cost"])}

    def key(*parts: Any) -> str:
        return "|".join("" if part is None else str(part) for part in (project_id, *parts))

    try:
        days = [{"row_key": key(row["date"], *(row.get(d) for d in settings.STATS_DIMENSIONS)),
                 "project_id": project_id, "date": row["date"],
                 **{d: row.get(d) for d in settings.STATS_DIMENSIONS}, **figures(row), **window}
                for row in stats.get("days") or []]
        reach = [{"row_key": key("all", None), "project_id": project_id, "dimension": "all", "value": None,
                  **figures(stats), **window}]
        for dimension, rows in (stats.get("dimensions") or {}).items():
            reach += [{"row_key": key(dimension, row.get("value")), "project_id": project_id,
                       "dimension": dimension, "value": row.get("value"), **figures(row), **window}
                      for row in rows]
    except (KeyError, TypeError, ValueError) as exc:
        raise VendorError(settings.VENDOR, "GET projects/stats/reports",
                          f"report for project {project_id} malformed: {exc!r}") from exc
    return days, reach


def _ok(client: VendorClient, body: Any, endpoint: str) -> dict[str, Any]:
    if not isinstance(body, dict) or body.get("status", "OK") != "OK":
        errors = body.get("errors") if isinstance(body, dict) else body
        raise VendorError(client.vendor, endpoint, f"status not OK: {errors}")
    return body


def conversion_row(record: dict[str, Any]) -> dict[str, Any]:
    """The conversion itself: the record less its model-specific part, timestamps as UTC datetimes."""
    row = {k: v for k, v in record.items() if k not in ("clicks", "attribution_model")}
    for field in settings.TIMESTAMP_FIELDS:
        if field in row:  # a field left out stays out (sources.common.drift tells absence from null)
            row[field] = moment_or_raw(row[field])
    return row


def ordered(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows by cursor time, then id; those without a readable time last (the contract rejects them)."""
    def key(row: dict[str, Any]) -> tuple[bool, datetime, Any]:
        moment = row.get(settings.CURSOR)
        timed = isinstance(moment, datetime)
        return not timed, moment if timed else datetime.min.replace(tzinfo=UTC), row["id"]

    return sorted(rows, key=key)


def credit_rows(model: str, record: dict[str, Any]) -> list[dict[str, Any]]:
    """The clicks `model` credits for this conversion, one row each, with the model named."""
    rows = []
    for click in record.get("clicks") or []:
        row = {"conversion_id": record["id"], "attribution_model": model, **click}
        row["click_timestamp"] = moment_or_raw(row.pop("timestamp", None))
        rows.append(row)
    return rows
