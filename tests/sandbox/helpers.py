"""Plain httpx calls to the sandbox, written out by hand so the tests check the API, not our client."""

from __future__ import annotations

from typing import Any

import httpx

from simulator.credentials import CREDENTIALS

CM_KEY = {"X-APIKEY": CREDENTIALS["clickmagick"]["api_key"]}
I8_KEY = {"API-KEY": CREDENTIALS["integr8"]["api_key"]}
WINDOW = {"start_time": "2026-09-01T00:00:00Z", "end_time": "2026-11-01T00:00:00Z"}
I8_WINDOW = {"start_time": "2026-09-01 00:00:00", "end_time": "2026-10-01 00:00:00"}
INTEGRATIONS = ["int-surf-7f3a", "int-alpine-91c2", "int-outback-44d8"]
WM_PROJECTS = ["surf-shop", "alpine-gear", "outback-tees"]


def cm_all(client: httpx.Client, base: str, path: str, key: str, **params: Any) -> list[dict[str, Any]]:
    """Follow `cursor.next` to the end."""
    rows, cursor = [], None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        body = client.get(f"{base}{path}", params=query, headers=CM_KEY).raise_for_status().json()
        rows += body[key]
        cursor = body["cursor"]["next"]
        if cursor is None:
            return rows


def i8_report_all(client: httpx.Client, base: str, table: str, integration: str, size: int = 100,
                  **params: Any) -> list[dict[str, Any]]:
    """Follow `page[after]` = endCursor while hasNextPage."""
    rows, after = [], None
    while True:
        query = {"integration_id": integration, "page[size]": size, **I8_WINDOW, **params}
        if after:
            query["page[after]"] = after
        data = client.get(f"{base}/api/v2/reports/v2/{table}", params=query, headers=I8_KEY).raise_for_status()
        page = data.json()["data"]
        rows += page["data"]
        if not page["pageInfo"]["hasNextPage"]:
            return rows
        after = page["pageInfo"]["endCursor"]


def wm_token(client: httpx.Client, base: str) -> dict[str, str]:
    creds = CREDENTIALS["webmarketer"]
    body = client.post(f"{base}/oauth/token", data={"grant_type": "client_credentials", **creds})
    return {"Authorization": f"Bearer {body.raise_for_status().json()['access_token']}"}


def wm_all(client: httpx.Client, url: str, headers: dict[str, str], limit: int = 100,
           **params: Any) -> list[dict[str, Any]]:
    """Offset paging until offset >= total."""
    rows: list[dict[str, Any]] = []
    while True:
        body = client.get(url, params={**params, "offset": len(rows), "limit": limit}, headers=headers)
        page = body.raise_for_status().json()
        rows += page["data"]
        if len(rows) >= page["total"] or not page["data"]:
            return rows
