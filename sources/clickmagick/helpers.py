"""ClickMagick over HTTP: auth, cursor paging, and the shape of a conversion with its credits."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sources.clickmagick import settings
from sources.common.http import HeaderAuth, VendorClient, VendorError
from sources.common.incremental import utc
from sources.common.paging import PageGuard


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
    params: dict[str, Any] = {"start_time": iso(start), "end_time": iso(end), "limit": page_size, **utm_filters}
    guard = PageGuard(client.vendor, endpoint)
    while True:
        body = _ok(client, client.get_json(path, params=params, endpoint=endpoint), endpoint)
        if kind not in body or "cursor" not in body:
            raise VendorError(client.vendor, endpoint, f"response has no {kind!r} list or cursor")
        yield body[kind]
        cursor = (body.get("cursor") or {}).get("next")
        guard.page(len(body[kind]), bool(cursor))
        if not cursor:
            return
        params["cursor"] = guard.cursor(cursor)


def _ok(client: VendorClient, body: Any, endpoint: str) -> dict[str, Any]:
    if not isinstance(body, dict) or body.get("status", "OK") != "OK":
        errors = body.get("errors") if isinstance(body, dict) else body
        raise VendorError(client.vendor, endpoint, f"status not OK: {errors}")
    return body


def conversion_row(record: dict[str, Any]) -> dict[str, Any]:
    """The conversion itself: the record less its model-specific part, timestamps as UTC datetimes."""
    row = {k: v for k, v in record.items() if k not in ("clicks", "attribution_model")}
    for field in settings.TIMESTAMP_FIELDS:
        if row.get(field):
            row[field] = utc(row[field])
    return row


def credit_rows(model: str, record: dict[str, Any]) -> list[dict[str, Any]]:
    """The clicks `model` credits for this conversion, one row each, with the model named."""
    rows = []
    for click in record.get("clicks") or []:
        row = {"conversion_id": record["id"], "attribution_model": model, **click}
        row["click_timestamp"] = utc(row.pop("timestamp"))
        rows.append(row)
    return rows
