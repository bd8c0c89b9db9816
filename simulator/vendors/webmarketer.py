"""Webmarketer API v1: OAuth token, projects, event types, events, trashed events, custom-ads campaigns
and outlays. Lists page with `offset`/`limit` in a `{count, total, data, limit, offset}` envelope.

Inferred where the docs are silent (see simulator/SCHEMA.md): `GET projects/{p}/events` lists
computed events filtered on `updatedAt` by `since`/`until`; trashed events filter on
`processingDate`; outlays filter on `updatedAt`, so edited outlays reappear.
"""

from __future__ import annotations

import secrets
import threading
import time
from typing import TYPE_CHECKING, Any

import numpy as np

from simulator import render, views
from simulator.http import HttpError, Request, Response
from simulator.identity import as_typed
from simulator.vendors.common import int_arg, iso_z, parse_instant
from simulator.world import BRANDS, CAMPAIGN_BRAND, CAMPAIGNS, DAY, EPOCH, TRASH_ERRORS, WM_CAMPAIGNS, World

if TYPE_CHECKING:
    from simulator.context import VendorContext

NAME = "webmarketer"
CREDENTIALS = {"client_id": "wm-sandbox-client", "client_secret": "wm-sandbox-secret"}

MAX_LIMIT = 100
EVENT_TYPES = ["order", "lead"]
CAMPAIGN_IDS = [f"cmp{7000 + i}" for i in range(len(WM_CAMPAIGNS))]


def error(status: int, message: str) -> Response:
    names = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found"}
    return Response.of_json({"statusCode": status, "message": message, "error": names.get(status, "Error")}, status)


def _rfc3339(epoch_s: int, tz: str) -> str:
    return render.fmt_rfc3339(np.array([epoch_s]), tz)[0].as_py()


def _brand_of_project(project_id: str) -> int:
    for b, brand in enumerate(BRANDS):
        if brand.wm_project_id == project_id:
            return b
    raise HttpError(error(404, f"Project {project_id} not found"))


def event_types(brand: int) -> list[dict[str, Any]]:
    pid = BRANDS[brand].wm_project_id
    fields = [
        {"type": "email", "entity": "user", "storageKey": "email", "ingestionKey": "email", "discriminant": True,
         "isPii": True, "isMostProbableLocation": False, "optional": True},
        {"type": "string", "entity": "event", "storageKey": "order_ref", "ingestionKey": "order_ref",
         "discriminant": False, "isPii": False, "isMostProbableLocation": False, "optional": True},
    ]
    return [
        {"_id": f"64ea0e94713604{brand:02d}bc438ef{i}", "createdAt": "2026-06-01T10:00:00Z",
         "updatedAt": "2026-06-01T10:00:00Z", "archivedAt": None, "projectId": pid, "reference": ref,
         "name": {"order": "Order", "lead": "Lead form"}[ref], "fields": fields,
         "metadata": {"form": "webmarketer"}}
        for i, ref in enumerate(EVENT_TYPES)
    ]


def event_uuids(world: World, conv: np.ndarray) -> np.ndarray:
    """The `_id` Webmarketer gives the event of each of the world's conversions."""
    c = world.conversions
    return render.uuids(c["key"][conv].astype(np.uint64), c["key2"][conv].astype(np.uint64)).astype(str)


class Vendor:
    def __init__(self, ctx: VendorContext) -> None:
        self.ctx = ctx
        self.tokens: dict[str, float] = {}  # access token -> expiry (wall time)
        self.refresh_tokens: set[str] = set()
        self._lock = threading.Lock()

    # --- ground truth and control ----------------------------------------------------------------
    def reported(self) -> np.ndarray:
        """Which of the world's conversions Webmarketer has reported by now."""
        c = self.ctx.world.conversions
        return c["wm"] & (c["wm_visible_at"] <= self.ctx.clock)

    def observed_touches(self, conv: int, touches: np.ndarray, reported: bool) -> np.ndarray:
        return np.zeros(len(touches), dtype=bool)  # Webmarketer's API shows events, not touches

    def record_ids(self, conv: np.ndarray) -> np.ndarray:
        """Each conversion's record id here, as the API shows it (an event's `_id`)."""
        return event_uuids(self.ctx.world, conv).astype(object)

    def truth_counts(self) -> dict[str, int]:
        world = self.ctx.world
        return {
            "projects": len(BRANDS),
            "event_types": sum(len(event_types(b)) for b in range(len(BRANDS))),
            "events": int(self.reported().sum()),
            "trashed_events": int((world.wm_trash["visible_at"] <= self.ctx.clock).sum()),
            "campaigns": len(WM_CAMPAIGNS),
            "outlays": int((world.wm_outlays["visible_at"] <= self.ctx.clock).sum()),
        }

    def control_routes(self) -> list[tuple[str, str, Any]]:
        def expire_tokens(_: Request) -> Response:
            self.expire_all_tokens()
            return Response.of_json({"expired": True})

        return [("POST", "/_sim/tokens/expire", expire_tokens)]

    def routes(self) -> list[tuple[str, str, Any]]:
        return [
            ("POST", "/oauth/token", self.token),
            ("GET", "/api/v1/agents/me/projects", self.projects),
            ("GET", "/api/v1/projects/{project_id}", self.project),
            ("GET", "/api/v1/projects/{project_id}/event-types", self.event_types),
            ("GET", "/api/v1/projects/{project_id}/events", self.events),
            ("GET", "/api/v1/projects/{project_id}/trashed-events", self.trashed_events),
            ("GET", "/api/v1/projects/{project_id}/integrations", self.integrations),
            ("GET", "/api/v1/projects/{project_id}/integrations/{wmkt_id}/campaigns", self.campaigns),
            ("GET", "/api/v1/projects/{project_id}/integrations/{wmkt_id}/campaigns/{campaign_id}/outlays",
             self.outlays),
        ]

    # --- auth ------------------------------------------------------------------------------------
    def token(self, request: Request) -> Response:
        form = {k: v[-1] for k, v in request.form().items()}
        if request.headers.get("content-type", "").startswith("application/json"):
            form.update(request.json() or {})
        grant = form.get("grant_type")
        creds = CREDENTIALS
        if grant == "client_credentials":
            if form.get("client_id") != creds["client_id"] or form.get("client_secret") != creds["client_secret"]:
                raise HttpError(Response.of_json({"error": "invalid_client",
                                                  "error_description": "Client authentication failed"}, 401))
        elif grant == "refresh_token":
            if form.get("refresh_token") not in self.refresh_tokens:
                raise HttpError(Response.of_json({"error": "invalid_grant",
                                                  "error_description": "Refresh token is invalid"}, 400))
        else:
            raise HttpError(Response.of_json({"error": "unsupported_grant_type"}, 400))
        ttl = self.ctx.faults.config.token_ttl_s
        access, refresh = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        with self._lock:
            self.tokens[access] = time.time() + ttl
            self.refresh_tokens.add(refresh)
        return Response.of_json({"access_token": access, "token_type": "Bearer", "expires_in": int(ttl),
                                 "refresh_token": refresh, "scope": "read"})

    def expire_all_tokens(self) -> None:
        with self._lock:
            self.tokens = {t: 0.0 for t in self.tokens}

    def _auth(self, request: Request) -> None:
        header = request.headers.get("authorization", "")
        token = header[7:] if header.startswith("Bearer ") else ""
        with self._lock:
            expiry = self.tokens.get(token)
        if expiry is None or time.time() >= expiry:
            raise HttpError(error(401, "Unauthorized"))

    # --- helpers ---------------------------------------------------------------------------------
    def _page(self, request: Request) -> tuple[int, int]:
        offset = int_arg(request, "offset", 0, 0, 10**9, error)
        limit = int_arg(request, "limit", 20, 1, MAX_LIMIT, error)
        return offset, limit

    def _envelope(self, rows: list[dict[str, Any]], total: int, offset: int, limit: int) -> Response:
        return Response.of_json({"count": len(rows), "total": total, "data": rows, "offset": offset, "limit": limit})

    def _list(self, request: Request, rows: list[dict[str, Any]]) -> Response:
        offset, limit = self._page(request)
        return self._envelope(rows[offset : offset + limit], len(rows), offset, limit)

    def _bounds(self, request: Request) -> tuple[int | None, int | None]:
        """`since`/`until`, both inclusive, as epoch seconds."""
        out = []
        for key in ("since", "until"):
            raw = request.arg(key)
            try:
                out.append(None if raw is None else parse_instant(raw))
            except ValueError:
                raise HttpError(error(400, f"{key} must be an RFC3339 date-time")) from None
        return out[0], out[1]

    def _project(self, request: Request) -> int:
        self._auth(request)
        return _brand_of_project(request.params["project_id"])

    # --- endpoints -------------------------------------------------------------------------------
    def _project_row(self, brand: int) -> dict[str, Any]:
        b = BRANDS[brand]
        return {"_id": f"prj{brand:03d}", "id": b.wm_project_id, "name": b.key.replace("-", " ").title(),
                "timezone": b.time_zone, "currency": b.currency, "createdAt": "2026-06-01T09:00:00Z"}

    def projects(self, request: Request) -> Response:
        self._auth(request)
        return self._list(request, [self._project_row(b) for b in range(len(BRANDS))])

    def project(self, request: Request) -> Response:
        return Response.of_json(self._project_row(self._project(request)))

    def event_types(self, request: Request) -> Response:
        return self._list(request, event_types(self._project(request)))

    def integrations(self, request: Request) -> Response:
        brand = self._project(request)
        b = BRANDS[brand]
        return self._list(request, [{"wmktId": b.wm_integration_id, "type": "custom-ads", "name": "Custom Ads",
                                     "projectId": b.wm_project_id, "currency": b.currency}])

    def _event_updated_at(self, conv: np.ndarray) -> np.ndarray:
        c = self.ctx.world.conversions
        refund = c["refund_at"][conv]
        shown = c["wm_visible_at"][conv]
        return np.where(refund <= self.ctx.clock, np.maximum(refund, shown), shown)

    def events(self, request: Request) -> Response:
        brand = self._project(request)
        since, until = self._bounds(request)
        offset, limit = self._page(request)
        world, c = self.ctx.world, self.ctx.world.conversions
        with self.ctx.lock:
            idx = np.flatnonzero(c["wm"] & (c["wm_visible_at"] <= self.ctx.clock))
            idx = idx[views.brand_of_conversion(world, idx) == brand]
            updated = self._event_updated_at(idx)
            keep = _within(updated, since, until)
            idx, updated = idx[keep], updated[keep]
            order = np.lexsort((c["number"][idx], updated))
            idx, updated = idx[order], updated[order]
            page = idx[offset : offset + limit]
            rows = self._event_rows(world, page, updated[offset : offset + limit], brand)
        return self._envelope(rows, len(idx), offset, limit)

    def _event_rows(self, world: World, page: np.ndarray, updated: np.ndarray, brand: int) -> list[dict[str, Any]]:
        if not len(page):
            return []
        c = world.conversions
        tz, pid, currency = BRANDS[brand].time_zone, BRANDS[brand].wm_project_id, BRANDS[brand].currency
        ids = views.buyer_ids(world, page)
        refs = views.order_refs(world, page)
        event_ids = event_uuids(world, page)
        typos = c.get("wm_email_typo")  # the hard identity world's mistyped emails (simulator/identity.py)
        rows = []
        for i, conv in enumerate(page):
            when = _rfc3339(int(c["time"][conv]), tz)
            created = _rfc3339(int(c["wm_visible_at"][conv]), tz)
            sale = c["kind"][conv] == 0

            def metric(key: str, mtype: str, data: dict[str, Any], at: str, n: int,
                       _i: int = i, _created: str = created) -> dict[str, Any]:
                return {"_id": f"{event_ids[_i][:8]}{n:016x}", "projectId": pid, "eventId": event_ids[_i], "key": key,
                        "type": mtype, "data": {**data, "date": at, "anonymized": False, "invalid": False},
                        "createdAt": _created, "updatedAt": at, "deletedAt": None}

            metrics = []
            if sale:
                amount = {"amount": float(c["revenue"][conv]), "currency": currency}
                metrics.append(metric("turnover", "statistic", {"type": "currency", "raw": amount, "current": amount},
                                      when, 1))
                metrics.append(metric("paid", "state", {"type": "state", "raw": 1, "current": 1}, when, 2))
                if c["refund_at"][conv] <= self.ctx.clock:
                    metrics.append(metric("refund", "state", {"type": "state", "raw": 1, "current": 1},
                                          _rfc3339(int(c["refund_at"][conv]), tz), 3))
            else:
                metrics.append(metric("qualified", "state", {"type": "state", "raw": 1, "current": 1}, when, 4))
            user: dict[str, Any] = {}
            email = as_typed(ids["email"][i], int(typos[conv])) if typos is not None else ids["email"][i]
            if email:
                user["email"] = {"raw": email, "current": email, "type": "email", "date": when,
                                 "anonymized": False, "invalid": False}
            user["external-id"] = {"raw": ids["wm_user_id"][i], "current": ids["wm_user_id"][i], "type": "string",
                                   "date": when, "anonymized": False, "invalid": False}
            rows.append({
                "_id": event_ids[i],
                "projectId": pid,
                "userId": ids["wm_user_id"][i],
                "trackerId": ids["wm_tracker_id"][i],
                "eventDate": when,
                "eventType": EVENT_TYPES[0 if sale else 1],
                "attributable": True,
                "expirationPolicy": None,
                "event": {"order_ref": None if c["wm_ref_missing"][conv] else refs[i]},
                "user": user,
                "metrics": metrics,
                "createdAt": created,
                "updatedAt": _rfc3339(int(updated[i]), tz),
            })
        return rows

    def trashed_events(self, request: Request) -> Response:
        brand = self._project(request)
        since, until = self._bounds(request)
        offset, limit = self._page(request)
        tr = self.ctx.world.wm_trash
        with self.ctx.lock:
            idx = self.ctx.visible(tr)
            idx = idx[tr["brand"][idx] == brand]
            idx = idx[_within(tr["time"][idx], since, until)]
        page = idx[offset : offset + limit]
        pid = BRANDS[brand].wm_project_id
        uuids = render.uuids(tr["key"][page].astype(np.uint64), tr["key2"][page].astype(np.uint64)).astype(str)
        rows = []
        for i, row in enumerate(page):
            etype, key, ftype, value = TRASH_ERRORS[tr["error"][row]]
            ref = EVENT_TYPES[tr["kind"][row]]
            rows.append({
                "_id": uuids[i],
                "projectId": pid,
                "errors": [{"type": etype, "field": {"discriminant": key == "email", "entity": "user" if key in (
                    "email", "phone", "location") else "event", "storageKey": key, "isPii": key in ("email", "phone"),
                    "isMostProbableLocation": key == "location", "type": ftype, "ingestionKey": key,
                    "optional": False}, "value": value}],
                "eventTypeId": event_types(brand)[tr["kind"][row]]["_id"],
                "eventTypeRef": ref,
                "processingDate": _ms_z(int(tr["time"][row])),
                "rawEventDate": _ms_z(int(tr["raw_time"][row])),
            })
        return self._envelope(rows, len(idx), offset, limit)

    def _integration(self, request: Request) -> int:
        brand = self._project(request)
        if request.params["wmkt_id"] != BRANDS[brand].wm_integration_id:
            raise HttpError(error(404, "Integration not found"))
        return brand

    def _campaign_rows(self, brand: int) -> list[dict[str, Any]]:
        b = BRANDS[brand]
        return [{"id": CAMPAIGN_IDS[j], "integrationId": b.wm_integration_id, "projectId": b.wm_project_id,
                 "name": CAMPAIGNS[ci][2].replace("-", " ").title(), "campaignSlug": CAMPAIGNS[ci][2], "active": True,
                 "explicit": True, "createdAt": "2026-06-01T09:00:00Z", "updatedAt": "2026-06-01T09:00:00Z"}
                for j, ci in enumerate(WM_CAMPAIGNS) if CAMPAIGN_BRAND[ci] == brand]

    def campaigns(self, request: Request) -> Response:
        brand = self._integration(request)
        rows = self._campaign_rows(brand)
        if request.arg("campaignId"):
            rows = [r for r in rows if r["id"] == request.arg("campaignId")]
        if request.arg("campaignSlug"):
            rows = [r for r in rows if r["campaignSlug"] == request.arg("campaignSlug")]
        return self._list(request, rows)

    def outlays(self, request: Request) -> Response:
        brand = self._integration(request)
        campaign_id = request.params["campaign_id"]
        if campaign_id not in CAMPAIGN_IDS or CAMPAIGN_BRAND[WM_CAMPAIGNS[CAMPAIGN_IDS.index(campaign_id)]] != brand:
            raise HttpError(error(404, "Campaign not found"))
        j = CAMPAIGN_IDS.index(campaign_id)
        since, until = self._bounds(request)
        offset, limit = self._page(request)
        o = self.ctx.world.wm_outlays
        with self.ctx.lock:
            idx = self.ctx.visible(o)
            idx = idx[o["wm_campaign"][idx] == j]
            edited = o["edit_at"][idx] <= self.ctx.clock
            updated = np.where(edited, o["edit_at"][idx], o["created_at"][idx])
            keep = _within(updated, since, until)
            idx, updated, edited = idx[keep], updated[keep], edited[keep]
            order = np.lexsort((o["day"][idx], updated))
            idx, updated, edited = idx[order], updated[order], edited[order]
        b = BRANDS[brand]
        rows = []
        for i in range(offset, min(offset + limit, len(idx))):
            row = idx[i]
            start = int(o["day"][row]) * DAY + EPOCH
            amount = float(o["edited_amount"][row] if edited[i] else o["amount"][row])
            rows.append({"_id": f"otl{int(o['key'][row]) % 10**12:012d}", "projectId": b.wm_project_id,
                         "integrationId": b.wm_integration_id, "campaignId": campaign_id,
                         "amount": {"amount": amount, "currency": b.currency},
                         "startDate": iso_z(start), "endDate": iso_z(start + DAY - 1),
                         "country": None, "region": None, "deletedAt": None,
                         "createdAt": _ms_z(int(o["created_at"][row])), "updatedAt": _ms_z(int(updated[i]))})
        return self._envelope(rows, len(idx), offset, limit)


def _within(values: np.ndarray, since: int | None, until: int | None) -> np.ndarray:
    """Mask of `values` in [since, until], both inclusive and optional (Webmarketer's `since`/`until`)."""
    keep = np.ones(len(values), dtype=bool)
    if since is not None:
        keep &= values >= since
    if until is not None:
        keep &= values <= until
    return keep


def _ms_z(epoch_s: int) -> str:
    return iso_z(epoch_s).replace("Z", ".000Z")

