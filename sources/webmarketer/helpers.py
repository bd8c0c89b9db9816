"""Webmarketer over HTTP: OAuth tokens as an httpx.Auth, offset paging, and flat rows."""

from __future__ import annotations

import json
import time
from collections.abc import Generator, Iterator
from datetime import datetime
from typing import Any

import httpx

from sources.common.contract import moment_or_raw
from sources.common.paging import OffsetPaginator, paginate
from sources.webmarketer import settings
from vendor_http import Redactor, VendorClient


class OAuthToken(httpx.Auth):
    """Bearer tokens from the token endpoint: fetched on first use, refreshed before they expire (with
    the refresh token when we have one) and once more if the API still answers 401. Token responses
    that fail are returned as the response, so the client's retries and errors apply to them too."""

    requires_response_body = True

    def __init__(self, token_url: str, client_id: str, client_secret: str, redact: Redactor) -> None:
        self.token_url, self.client_id, self.client_secret = token_url, client_id, client_secret
        self.redact = redact
        self._access: str | None = None
        self._refresh: str | None = None
        self._expires_at = 0.0

    def _token_request(self) -> httpx.Request:
        if self._refresh:
            form = {"grant_type": "refresh_token", "refresh_token": self._refresh}
        else:
            form = {"grant_type": "client_credentials", "client_id": self.client_id,
                    "client_secret": self.client_secret}
        return httpx.Request("POST", self.token_url, data=form)

    def _store(self, response: httpx.Response) -> bool:
        if response.status_code != 200:
            return False
        body = response.json()
        self._access, self._refresh = body["access_token"], body.get("refresh_token") or self._refresh
        lifetime = float(body.get("expires_in") or 3600)
        margin = min(settings.TOKEN_REFRESH_MARGIN_S, lifetime * 0.1)
        self._expires_at = time.monotonic() + lifetime - margin
        self.redact.add(self._access)
        if self._refresh:
            self.redact.add(self._refresh)
        return True

    def _fetch(self) -> Generator[httpx.Request, httpx.Response, httpx.Response | None]:
        """Get a token; on failure, the failed token response (to be returned to the caller)."""
        used_refresh = self._refresh is not None
        response = yield self._token_request()
        if not self._store(response) and used_refresh:
            self._refresh = None  # the refresh token is dead: ask with the client credentials once
            response = yield self._token_request()
            self._store(response)
        return None if response.status_code == 200 else response

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._access is None or time.monotonic() >= self._expires_at:
            failed = yield from self._fetch()
            if failed is not None:
                return
        request.headers["Authorization"] = f"Bearer {self._access}"
        response = yield request
        if response.status_code == 401:  # revoked or expired early: refresh once and retry
            self._expires_at = 0.0
            failed = yield from self._fetch()
            if failed is not None:
                return
            request.headers["Authorization"] = f"Bearer {self._access}"
            yield request


def make_client(base_url: str, client_id: str, client_secret: str, token_path: str) -> VendorClient:
    redact = Redactor([client_secret])
    auth = OAuthToken(f"{base_url.rstrip('/')}{token_path}", client_id, client_secret, redact)
    # One redactor: it learns every token the auth obtains.
    return VendorClient(settings.VENDOR, base_url, auth=auth, secrets=[client_secret], redactor=redact)


def pages(client: VendorClient, path: str, endpoint: str, **params: Any) -> Iterator[list[dict[str, Any]]]:
    """Offset paging over `{count, total, data, offset}` until offset >= total (see `OffsetPaginator`: a record
    repeated on a later page is passed on once, and a listing that skipped records fails the window)."""
    paginator = OffsetPaginator("data", "total", "offset", "offset", record_id=_record_id)
    yield from paginate(client, path, endpoint, paginator, {**params, "limit": settings.PAGE_SIZE})


def _record_id(item: dict[str, Any]) -> Any:
    return next((item[key] for key in ("_id", "id", "wmktId") if item.get(key) is not None), None)


def rfc3339(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _ts(value: Any) -> Any:
    """A time as an aware UTC datetime, none as None; anything else as it came, for the contract to reject."""
    return moment_or_raw(value) if value not in (None, "") else None


def sent_only(row: dict[str, Any], record: dict[str, Any], fields: dict[str, str]) -> dict[str, Any]:
    """`row` less the columns (of `fields`: column -> the vendor's field) whose field the record left out: absent
    is not null, and a documented field the vendor stops sending keeps its loaded values (sources.common.drift)."""
    for column, field in fields.items():
        if field not in record:
            del row[column]
    return row


EVENT_FIELDS = {"project_id": "projectId", "user_id": "userId", "tracker_id": "trackerId", "event_type": "eventType",
                "event_date": "eventDate", "created_at": "createdAt", "updated_at": "updatedAt"}
TRASHED_FIELDS = {"project_id": "projectId", "event_type_id": "eventTypeId", "event_type_ref": "eventTypeRef",
                  "processing_date": "processingDate", "raw_event_date": "rawEventDate"}
OUTLAY_FIELDS = {"project_id": "projectId", "integration_id": "integrationId", "campaign_id": "campaignId",
                 "amount": "amount", "currency": "amount", "start_date": "startDate", "end_date": "endDate",
                 "country": "country", "region": "region", "deleted_at": "deletedAt", "created_at": "createdAt",
                 "updated_at": "updatedAt"}


def event_row(event: dict[str, Any]) -> dict[str, Any]:
    """A computed event as one flat row, with its metrics as a nested list (table `events__metrics`)."""
    user = event.get("user") or {}
    metrics = []
    row: dict[str, Any] = {
        "id": event["_id"],
        "project_id": event.get("projectId"),
        "user_id": event.get("userId"),
        "tracker_id": event.get("trackerId"),
        "event_type": event.get("eventType"),
        "event_date": _ts(event.get("eventDate")),
        "order_ref": (event.get("event") or {}).get("order_ref"),
        "email": (user.get("email") or {}).get("current"),
        "external_id": (user.get("external-id") or {}).get("current"),
        "turnover": None,
        "turnover_currency": None,
        **{f"{state}_at": None for state in settings.STATE_METRICS},
        "created_at": _ts(event.get("createdAt")),
        "updated_at": _ts(event.get("updatedAt")),
    }
    for metric in event.get("metrics") or []:
        data = metric.get("data") or {}
        current = data.get("current")
        amount = current.get("amount") if isinstance(current, dict) else current
        currency = current.get("currency") if isinstance(current, dict) else None
        metrics.append({"key": metric.get("key"), "type": metric.get("type"),
                        "value": float(amount) if amount is not None else None, "currency": currency,
                        "date": _ts(data.get("date"))})
        if metric.get("key") == "turnover":
            row["turnover"], row["turnover_currency"] = amount, currency
        elif metric.get("key") in settings.STATE_METRICS and current == 1:
            row[f"{metric['key']}_at"] = _ts(data.get("date"))
    row["metrics"] = metrics
    return sent_only(row, event, EVENT_FIELDS)


def trashed_row(trashed: dict[str, Any]) -> dict[str, Any]:
    """A trashed event with its validation errors as a nested list (table `trashed_events__errors`)."""
    errors = []
    for error in trashed.get("errors") or []:
        field = error.get("field")
        field = field if isinstance(field, dict) else {"storageKey": field}  # `field` is becoming a string
        value = error.get("value")
        errors.append({
            "error_type": error.get("type"),
            "field_storage_key": field.get("storageKey"),
            "field_entity": field.get("entity"),
            "field_type": field.get("type"),
            "field_ingestion_key": field.get("ingestionKey"),
            "field_is_pii": field.get("isPii"),
            "value": value if isinstance(value, str) or value is None else json.dumps(value, sort_keys=True),
        })
    return sent_only({
        "id": trashed["_id"],
        "project_id": trashed.get("projectId"),
        "event_type_id": trashed.get("eventTypeId"),
        "event_type_ref": trashed.get("eventTypeRef"),
        "processing_date": _ts(trashed.get("processingDate")),
        "raw_event_date": _ts(trashed.get("rawEventDate")),
        "errors": errors,
    }, trashed, TRASHED_FIELDS)


def outlay_row(outlay: dict[str, Any]) -> dict[str, Any]:
    amount = outlay.get("amount") or {}
    return sent_only({
        "id": outlay["_id"],
        "project_id": outlay.get("projectId"),
        "integration_id": outlay.get("integrationId"),
        "campaign_id": outlay.get("campaignId"),
        "amount": amount.get("amount"),
        "currency": amount.get("currency"),
        "start_date": _ts(outlay.get("startDate")),
        "end_date": _ts(outlay.get("endDate")),
        "country": outlay.get("country"),
        "region": outlay.get("region"),
        "deleted_at": _ts(outlay.get("deletedAt")),
        "created_at": _ts(outlay.get("createdAt")),
        "updated_at": _ts(outlay.get("updatedAt")),
    }, outlay, OUTLAY_FIELDS)
