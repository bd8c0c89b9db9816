"""Integr8 API v2: advertisers, offers, publishers, reports by cursor, and Download Center exports.

Reports and exports render rows through the same Arrow builders (`TABLES`), so a report page and a
CSV export of the same window hold the same values. Times are wall-clock `YYYY-MM-DD HH:MM:SS` in
the request's `timezone` (default UTC), as the vendor documents.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import itertools
import threading
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from simulator import render, views
from simulator.http import HttpError, Request, Response
from simulator.vendors.common import int_arg, time_slice, window, zone
from simulator.world import (
    BRANDS,
    CAMPAIGN_BRAND,
    CAMPAIGN_CHANNEL,
    CAMPAIGNS,
    CH,
    OFFER_CAMPAIGNS,
    PUBLISHERS,
    REJECTION_REASONS,
    World,
)

if TYPE_CHECKING:
    from simulator.context import VendorContext

NAME = "integr8"
CREDENTIALS = {"api_key": "i8-sandbox-key"}

REPORT_MAX_DAYS = 31  # wider report windows fail with 402; the Download Center is for volume
SIGNING_KEY = b"integr8-sandbox-signing-key"
OFFER_NAMES = np.array([c[2] for c in CAMPAIGNS], dtype=object)
OFFER_IDS = np.array([f"off-{100 + i}" for i in range(len(CAMPAIGNS))], dtype=object)
PUBLISHER_IDS = np.array([f"pub-{200 + i}" for i in range(len(PUBLISHERS))], dtype=object)
PUBLISHER_NAMES = np.array(PUBLISHERS, dtype=object)


def error(status: int, message: str) -> Response:
    titles = {400: "Bad Request", 401: "Unauthorized", 402: "Request Failed", 403: "Forbidden", 404: "Not Found"}
    return Response.of_json({"errors": [{"status": str(status), "title": titles.get(status, "Error"),
                                         "detail": message}]}, status)


def _tx_ids(table: dict[str, np.ndarray], idx: np.ndarray) -> np.ndarray:
    return render.ulids(table["ms"][idx], table["entropy"][idx]).astype(str).astype(object)


def _publisher_of_touch(world: World, touch: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """Publisher index: the affiliate for affiliate touches, the ad platform for tracked paid links."""
    t = world.touches
    safe = np.maximum(touch, 0)
    ch, sub = t["channel"][safe], t["sub"][safe]
    pub = np.where(ch == CH["affiliate"], sub, 0)
    pub = np.where(ch == CH["paid_social"], np.where(sub == 0, PUBLISHERS.index("meta-ads"),
                                                      PUBLISHERS.index("tiktok-ads")), pub)
    pub = np.where(ch == CH["display"], PUBLISHERS.index("google-display"), pub)
    return np.where(touch < 0, fallback % 10, pub)


def _brand_cols(campaign: np.ndarray) -> dict[str, np.ndarray]:
    brand = CAMPAIGN_BRAND[campaign]
    return {
        "integration_id": np.array([b.i8_integration_id for b in BRANDS], dtype=object)[brand],
        "advertiser": np.array([b.key for b in BRANDS], dtype=object)[brand],
        "advertiser_id": np.array([b.i8_advertiser_id for b in BRANDS], dtype=object)[brand],
        "offer": OFFER_NAMES[campaign],
        "offer_id": OFFER_IDS[campaign],
    }


def _people(world: World, touch: np.ndarray, salt: np.ndarray) -> dict[str, np.ndarray]:
    """Device, IP, user agent and country of the visitor behind each touch (bots get their own)."""
    visitor = world.touches["visitor"][np.maximum(touch, 0)]
    ids = views.visitor_ids(world, visitor)
    bot = touch < 0
    bot_ids = render.hex_ids(salt.astype(np.uint64)).astype(str)
    return {
        "device_id": np.where(bot, np.char.add("dev-bot-", bot_ids).astype(object), ids["device_id"]),
        "ip": np.where(bot, np.asarray(render.ipv4(salt % 0xDF000000).to_pylist(), dtype=object), ids["ip"]),
        "user_agent": np.where(bot, "python-requests/2.31", ids["user_agent"]),
        "country": np.where(bot, "US", ids["country"]),
    }


def clicks_table(world: World, idx: np.ndarray, tz: str, clock: int) -> pa.Table:
    k, t = world.i8_clicks, world.touches
    touch = k["touch"][idx]
    safe = np.maximum(touch, 0)
    pub = _publisher_of_touch(world, touch, k["entropy"][idx])
    people = _people(world, touch, k["bot_ip"][idx])
    click_ids = views.touch_click_ids(world, safe)
    bot = k["is_bot"][idx]
    tx = _tx_ids(k, idx)
    affiliate = (t["channel"][safe] == CH["affiliate"]) & ~bot
    return views.to_arrow({
        "real_tx_id": tx,
        "tx_id": tx,
        **_brand_cols(k["campaign"][idx]),
        "publisher": PUBLISHER_NAMES[pub],
        "publisher_id": PUBLISHER_IDS[pub],
        "sub_id": np.where(affiliate, np.char.add("sub-", (t["click_key"][safe] % 50).astype(str)).astype(object),
                           None),
        "click_time": render.fmt_local(k["time"][idx], tz),
        "referer": np.where(affiliate, np.char.add("https://", PUBLISHER_NAMES[pub].astype(str)).astype(object), None),
        "click_ip": people["ip"],
        "user_agent": people["user_agent"],
        "device_id": people["device_id"],
        "country": people["country"],
        "is_bot": bot,
        "proxy_type": np.where(bot, "DCH", None),
        "revenue": np.zeros(len(idx)),
        "payout": np.where(bot, 0.0, t["cost"][safe]),
        "status": np.where(bot, "Rejected", "Approved"),
        "rejection_reason": np.where(bot, "BOT", None),
        **{k2: np.where(bot, None, v) for k2, v in click_ids.items()},
    })


def conversions_table(world: World, idx: np.ndarray, tz: str, clock: int) -> pa.Table:
    k, c, clicks = world.i8_conversions, world.conversions, world.i8_clicks
    conv = k["conversion"][idx]
    click = k["click"][idx]
    touch = clicks["touch"][click]
    pub = _publisher_of_touch(world, touch, clicks["entropy"][click])
    people = _people(world, touch, clicks["bot_ip"][click])
    decided = c["i8_decided_at"][conv] <= clock
    rejected = decided & c["i8_rejected"][conv]
    refunded = c["refund_at"][conv] <= clock
    refs = views.order_refs(world, conv)
    brand = views.brand_of_conversion(world, conv)
    return views.to_arrow({
        "real_tx_id": _tx_ids(k, idx),
        "tx_id": _tx_ids(k, idx),
        "click_tx_id": views.click_tx_ids(world, click),
        **_brand_cols(clicks["campaign"][click]),
        "publisher": PUBLISHER_NAMES[pub],
        "publisher_id": PUBLISHER_IDS[pub],
        "goal": np.where(c["kind"][conv] == 0, "sale", "lead"),
        "click_time": render.fmt_local(clicks["time"][click], tz),
        "conversion_time": render.fmt_local(k["time"][idx], tz),
        "conversion_ip": people["ip"],
        "user_agent": people["user_agent"],
        "device_id": people["device_id"],
        "country": people["country"],
        "external_transaction_id": np.where(c["i8_ref_missing"][conv], None, refs),
        "third_party_status": np.where(refunded, "refunded", "completed"),
        "purchase_value": c["revenue"][conv],
        "revenue": c["revenue"][conv],
        "payout": k["payout"][idx],
        "currency": views.currency_of_brand(brand),
        "status": np.where(~decided, "processing", np.where(rejected, "rejected", "approved")),
        "rejection_reason": np.where(rejected, np.array(REJECTION_REASONS, dtype=object)[c["i8_reason"][conv]], None),
        "session_time": k["time"][idx] - clicks["time"][click],
    })


def impressions_table(world: World, idx: np.ndarray, tz: str, clock: int) -> pa.Table:
    k, clicks = world.i8_impressions, world.i8_clicks
    click = k["click"][idx]
    touch = clicks["touch"][click]
    pub = _publisher_of_touch(world, touch, clicks["entropy"][click])
    people = _people(world, touch, clicks["bot_ip"][click])
    tx = _tx_ids(k, idx)
    return views.to_arrow({
        "real_tx_id": tx,
        "tx_id": tx,
        **_brand_cols(k["campaign"][idx]),
        "publisher": PUBLISHER_NAMES[pub],
        "publisher_id": PUBLISHER_IDS[pub],
        "request_time": render.fmt_local(k["time"][idx], tz),
        "ip": people["ip"],
        "user_agent": people["user_agent"],
        "device_id": people["device_id"],
        "country": people["country"],
    })


def postbacks_table(world: World, idx: np.ndarray, tz: str, clock: int) -> pa.Table:
    k, conversions, clicks = world.i8_postbacks, world.i8_conversions, world.i8_clicks
    i8c = k["i8_conversion"][idx]
    click = conversions["click"][i8c]
    pub = _publisher_of_touch(world, clicks["touch"][click], clicks["entropy"][click])
    conv_tx = _tx_ids(conversions, i8c)
    return views.to_arrow({
        "id": _tx_ids(k, idx),
        "conversion_tx_id": conv_tx,
        **_brand_cols(clicks["campaign"][click]),
        "publisher": PUBLISHER_NAMES[pub],
        "publisher_id": PUBLISHER_IDS[pub],
        "url": np.char.add(np.char.add(np.char.add("https://", PUBLISHER_NAMES[pub].astype(str)), "/postback?tx="),
                           conv_tx.astype(str)).astype(object),
        "http_status": k["status"][idx],
        "attempt": k["attempt"][idx],
        "sent_at": render.fmt_local(k["time"][idx], tz),
        "response_time_ms": k["latency_ms"][idx],
    })


@dataclass(frozen=True)
class Kind:
    table: str  # World attribute
    build: Callable[[World, np.ndarray, str, int], pa.Table]
    export_type: str
    brand_of: Callable[[World, np.ndarray], np.ndarray]


def _campaign_brand(name: str, via_click: bool = False) -> Callable[[World, np.ndarray], np.ndarray]:
    def brand(world: World, idx: np.ndarray) -> np.ndarray:
        table = getattr(world, name)
        if via_click:
            return CAMPAIGN_BRAND[world.i8_clicks["campaign"][table["click"][idx]]]
        return CAMPAIGN_BRAND[table["campaign"][idx]]

    return brand


def _postback_brand(world: World, idx: np.ndarray) -> np.ndarray:
    click = world.i8_conversions["click"][world.i8_postbacks["i8_conversion"][idx]]
    return CAMPAIGN_BRAND[world.i8_clicks["campaign"][click]]


TABLES = {
    "clicks": Kind("i8_clicks", clicks_table, "click_logs", _campaign_brand("i8_clicks")),
    "conversions": Kind("i8_conversions", conversions_table, "conversion_logs",
                        _campaign_brand("i8_conversions", via_click=True)),
    "impressions": Kind("i8_impressions", impressions_table, "impression_logs", _campaign_brand("i8_impressions")),
    "postbacks": Kind("i8_postbacks", postbacks_table, "postback_logs", _postback_brand),
}
REPORTS = {"click-table": "clicks", "conversion-table": "conversions", "impression-table": "impressions"}
FILTERS = {"filter[status]": "status", "filter[offer_id]": "offer_id", "filter[publisher]": "publisher",
           "filter[advertiser]": "advertiser"}


class Vendor:
    def __init__(self, ctx: VendorContext) -> None:
        self.ctx = ctx
        self.exports: dict[str, dict[str, Any]] = {}
        self.artifacts: dict[str, bytes] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    # --- ground truth ---------------------------------------------------------------------------
    def reported(self) -> np.ndarray:
        """Which of the world's conversions Integr8 has reported by now."""
        c = self.ctx.world.conversions
        return c["i8"] & (c["i8_visible_at"] <= self.ctx.clock)

    def rejected(self) -> np.ndarray:
        """Reported conversions whose fraud review rejected them by now."""
        c = self.ctx.world.conversions
        return self.reported() & c["i8_rejected"] & (c["i8_decided_at"] <= self.ctx.clock)

    def observed_touches(self, conv: int, touches: np.ndarray, reported: bool) -> np.ndarray:
        """Which touches Integr8 tracked as clicks that it has shown by now (reported or not)."""
        world = self.ctx.world
        click = world.touches["i8_click"][touches]
        return (click >= 0) & (world.i8_clicks["visible_at"][np.maximum(click, 0)] <= self.ctx.clock)

    def record_ids(self, conv: np.ndarray) -> np.ndarray:
        """Each conversion's record id here, as the API shows it (its conversion's `real_tx_id`); None where
        Integr8 has no conversion of it."""
        k = self.ctx.world.i8_conversions
        row = np.full(len(self.ctx.world.conversions["time"]), -1)
        row[k["conversion"]] = np.arange(len(k["conversion"]))
        ids = np.full(len(conv), None, dtype=object)
        has = row[conv] >= 0
        ids[has] = _tx_ids(k, row[conv][has])
        return ids

    def truth_counts(self) -> dict[str, int]:
        world = self.ctx.world

        def visible(table: dict[str, np.ndarray]) -> int:
            return int((table["visible_at"] <= self.ctx.clock).sum())

        return {
            "advertisers": len(BRANDS),
            "offers": len(OFFER_CAMPAIGNS),
            "publishers": len(PUBLISHERS),
            "clicks": visible(world.i8_clicks),
            "conversions": visible(world.i8_conversions),
            "impressions": visible(world.i8_impressions),
            "postback_logs": visible(world.i8_postbacks),
        }

    def routes(self) -> list[tuple[str, str, Any]]:
        routes: list[tuple[str, str, Any]] = [
            ("GET", "/api/v2/advertisers", self.advertisers),
            ("GET", "/api/v2/offers/{integration_id}", self.offers),
            ("GET", "/api/v2/publishers", self.publishers),
            ("GET", "/api/v2/downloadcenter-exports", self.list_exports),
            ("GET", "/api/v2/downloadcenter-exports/{export_id}", self.get_export),
            ("DELETE", "/api/v2/downloadcenter-exports/{export_id}", self.delete_export),
            ("GET", "/downloadcenter-artifact-url", self.artifact_url),
            ("GET", "/_artifacts/{name}", self.download),
        ]
        for path, kind in REPORTS.items():
            routes.append(("GET", f"/api/v2/reports/v2/{path}", self._reporter(kind)))
        for kind in TABLES:
            routes.append(("POST", f"/api/v2/download-center/{kind}-export/{{integration_id}}", self._exporter(kind)))
        return routes

    # --- helpers -------------------------------------------------------------------------------
    def _auth(self, request: Request) -> None:
        if request.headers.get("api-key") != CREDENTIALS["api_key"]:
            raise HttpError(error(401, "No valid API key provided."))

    def _brand(self, integration_id: str | None) -> int:
        if not integration_id:
            raise HttpError(error(400, "missing required parameter integration_id"))
        for b, brand in enumerate(BRANDS):
            if brand.i8_integration_id == integration_id:
                return b
        raise HttpError(error(403, "The API key doesn't have permissions to perform the request."))

    def _paged(self, request: Request, rows: list[dict[str, Any]]) -> Response:
        self._auth(request)
        size = int_arg(request, "page[size]", 20, 1, 100, error)
        number = int_arg(request, "page[number]", 1, 1, 10**9, error)
        total = len(rows)
        page = rows[(number - 1) * size : number * size]
        return Response.of_json({"data": page, "meta": {"total_count": total, "total_page": -(-total // size)}})

    def _select(self, kind: str, brand: int, lo: int, hi: int, filters: dict[str, str], tz: str) -> tuple[
            np.ndarray, pa.Table | None]:
        """Visible rows of `kind` for a brand in [lo, hi), after filters; ascending real_tx_id."""
        spec = TABLES[kind]
        table = getattr(self.ctx.world, spec.table)
        start, stop = time_slice(table["time"], lo, hi)
        idx = self.ctx.visible(table, start, stop)
        idx = idx[spec.brand_of(self.ctx.world, idx) == brand]
        if not filters or not len(idx):
            return idx, None
        rendered = spec.build(self.ctx.world, idx, tz, self.ctx.clock)
        keep = np.ones(len(idx), dtype=bool)
        for column, wanted in filters.items():
            values = np.asarray(rendered.column(column).to_pylist(), dtype=object)
            keep &= np.array([str(v).lower() == wanted.lower() for v in values])
        return idx[keep], rendered.filter(pa.array(keep))

    # --- directory endpoints ---------------------------------------------------------------------
    def advertisers(self, request: Request) -> Response:
        rows = [{"id": b.i8_advertiser_id, "incremental_id": 1001 + i, "name": b.key, "company_name": b.key.title(),
                 "active": True, "country": "US", "currency": b.currency} for i, b in enumerate(BRANDS)]
        return self._paged(request, rows)

    def offers(self, request: Request) -> Response:
        self._auth(request)
        brand = self._brand(request.params["integration_id"])
        rows = [{"id": OFFER_IDS[i], "incremental_id": 100 + i, "name": OFFER_NAMES[i],
                 "advertiser_id": BRANDS[brand].i8_advertiser_id, "status": "active",
                 "channel": ["paid_search", "paid_social", "display", "affiliate"][min(int(CAMPAIGN_CHANNEL[i]), 3)],
                 "payout_type": "CPA" if CAMPAIGN_CHANNEL[i] == CH["affiliate"] else "CPC",
                 "currency": BRANDS[brand].currency}
                for i in OFFER_CAMPAIGNS if CAMPAIGN_BRAND[i] == brand]
        return self._paged(request, rows)

    def publishers(self, request: Request) -> Response:
        rows = [{"id": PUBLISHER_IDS[i], "incremental_id": 200 + i, "name": name,
                 "type": "affiliate" if i < 10 else "ad_platform", "active": True}
                for i, name in enumerate(PUBLISHERS)]
        return self._paged(request, rows)

    # --- reports ---------------------------------------------------------------------------------
    def _reporter(self, kind: str):
        def handler(request: Request) -> Response:
            return self.report(request, kind)

        return handler

    def report(self, request: Request, kind: str) -> Response:
        self._auth(request)
        brand = self._brand(request.arg("integration_id"))
        tz = zone(request.arg("timezone") or "UTC", error)
        lo, hi = window(request, "start_time", "end_time", error, tz=tz, required=True)
        size = int_arg(request, "page[size]", None, 1, 100, error)
        after, before = request.arg("page[after]"), request.arg("page[before]")
        if after and before:
            raise HttpError(error(400, "page[after] and page[before] are mutually exclusive"))
        if hi - lo > REPORT_MAX_DAYS * 86_400:  # type: ignore[operator]
            raise HttpError(error(402, f"time range over {REPORT_MAX_DAYS} days; use the Download Center"))
        filters = {col: request.arg(key) for key, col in FILTERS.items() if request.arg(key)}
        with self.ctx.lock:
            idx, rendered = self._select(kind, brand, lo, hi, filters, tz)  # type: ignore[arg-type]
            ids = _tx_ids(getattr(self.ctx.world, TABLES[kind].table), idx).astype(str)
            # Listing order is newest first: position p in `ids` is listed at len-1-p.
            if after:
                cut = int(np.searchsorted(ids, after, "left"))  # rows older than the cursor
                chosen = np.arange(max(0, cut - size), cut)[::-1]
            elif before:
                cut = int(np.searchsorted(ids, before, "right"))  # rows newer than the cursor
                chosen = np.arange(cut, min(len(ids), cut + size))[::-1]
            else:
                chosen = np.arange(max(0, len(ids) - size), len(ids))[::-1]
            if rendered is None:
                rendered = TABLES[kind].build(self.ctx.world, idx[chosen], tz, self.ctx.clock)
            else:
                rendered = rendered.take(pa.array(chosen, type=pa.int64()))
        rows = rendered.to_pylist()
        info = {
            "startCursor": rows[0]["real_tx_id"] if rows else None,
            "endCursor": rows[-1]["real_tx_id"] if rows else None,
            "hasPreviousPage": bool(len(chosen) and chosen[0] < len(ids) - 1),
            "hasNextPage": bool(len(chosen) and chosen[-1] > 0),
        }
        return Response.of_json({"data": {"data": rows, "pageInfo": info}})

    # --- Download Center -------------------------------------------------------------------------
    def _exporter(self, kind: str):
        def handler(request: Request) -> Response:
            return self.create_export(request, kind)

        return handler

    def create_export(self, request: Request, kind: str) -> Response:
        self._auth(request)
        form = request.form()
        request.query = form
        brand = self._brand(request.params["integration_id"])
        tz = zone(request.arg("timezone") or "UTC", error)
        lo, hi = window(request, "start_time", "end_time", error, tz=tz, required=True)
        fields_arg = request.arg("fields")
        if not fields_arg:
            raise HttpError(error(400, "missing required parameter fields"))
        fields = [f.strip() for f in fields_arg.split(",") if f.strip()]
        known = TABLES[kind].build(self.ctx.world, np.zeros(0, dtype=np.int64), "UTC", 0).column_names
        unknown = [f for f in fields if f not in known]
        if unknown:
            raise HttpError(error(400, f"unknown fields {unknown}; available: {', '.join(known)}"))
        delimiter = request.arg("delimiter") or ","
        if len(delimiter) != 1:
            raise HttpError(error(400, "delimiter must be a single character"))
        with self._lock:
            export_id = f"exp-{next(self._ids):06d}"
        export = {
            "id": export_id,
            "type": TABLES[kind].export_type,
            "integration": BRANDS[brand].i8_integration_id,
            "organization": "org-sandbox",
            "platform": "24metrics",
            "status": "PENDING",
            "artifact": None,
            "error": None,
            "format": {"type": "csv", "delimiter": delimiter, "compression": "zip"},
            "reports_query_option": {"start_time": request.arg("start_time"), "end_time": request.arg("end_time"),
                                     "timezone": tz, "fields": fields,
                                     "filters": {"integration_id": {"equalvalues": [BRANDS[brand].i8_integration_id]}}},
            "results_meta": {"total": None, "duration_seconds": None},
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "updated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "requested_by": "api",
            "notify_by_email": False,
        }
        state = {"export": export, "created": time.monotonic(), "ready": None,
                 "fail": self.ctx.faults.take("failed_exports")
                 or self.ctx.faults.roll(self.ctx.faults.config.export_error_rate)}
        self.exports[export_id] = state
        with self.ctx.lock:
            idx, _ = self._select(kind, brand, lo, hi, {}, tz)  # type: ignore[arg-type]
            clock = self.ctx.clock
        threading.Thread(target=self._build, args=(state, kind, idx, tz, clock, fields, delimiter),
                         daemon=True).start()
        return Response.of_json(export)

    def _build(self, state: dict[str, Any], kind: str, idx: np.ndarray, tz: str, clock: int, fields: list[str],
               delimiter: str) -> None:
        export = state["export"]
        if state["fail"]:
            state["ready"] = time.monotonic()
            return
        table = TABLES[kind].build(self.ctx.world, idx, tz, clock).select(fields)
        csv_buf = io.BytesIO()
        pacsv.write_csv(table, csv_buf, pacsv.WriteOptions(delimiter=delimiter, include_header=True))
        zip_buf = io.BytesIO()
        with zipfile.ZipFile(zip_buf, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
            zf.writestr(f"{export['type']}_{export['id']}.csv", csv_buf.getvalue())
        name = f"{export['id']}-{hashlib.sha1(export['id'].encode()).hexdigest()[:10]}.zip"
        self.artifacts[name] = zip_buf.getvalue()
        export["results_meta"] = {"total": table.num_rows, "duration_seconds": 1}
        state["artifact"] = name
        state["ready"] = time.monotonic()

    def _status(self, state: dict[str, Any]) -> dict[str, Any]:
        export = state["export"]
        elapsed = time.monotonic() - state["created"]
        if export["status"] in ("COMPLETED", "ERROR"):
            return export
        if elapsed < 0.1:
            export["status"] = "PENDING"
        elif state["ready"] is None or elapsed < 0.3:
            export["status"] = "IN_PROGRESS"
        elif state["fail"]:
            export["status"] = "ERROR"
            export["error"] = "export worker failed: internal error while generating the file"
        else:
            export["status"] = "COMPLETED"
            export["artifact"] = {"name": state["artifact"], "size": len(self.artifacts[state["artifact"]])}
        export["updated_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        return export

    def _export(self, request: Request) -> dict[str, Any]:
        state = self.exports.get(request.params["export_id"])
        if state is None:
            raise HttpError(error(404, "export not found"))
        return state

    def get_export(self, request: Request) -> Response:
        self._auth(request)
        return Response.of_json({"data": self._status(self._export(request))})

    def list_exports(self, request: Request) -> Response:
        rows = [self._status(s) for s in self.exports.values()]
        status = request.arg("filter[status]")
        if status:
            rows = [r for r in rows if r["status"] == status]
        return self._paged(request, rows)

    def delete_export(self, request: Request) -> Response:
        self._auth(request)
        state = self._export(request)
        self.exports.pop(state["export"]["id"], None)
        if state.get("artifact"):
            self.artifacts.pop(state["artifact"], None)
        return Response.of_json({})

    def artifact_url(self, request: Request) -> Response:
        self._auth(request)
        name = request.arg("artifact_name")
        if not name or name not in self.artifacts:
            raise HttpError(error(404, "artifact not found"))
        ttl = -1.0 if self.ctx.faults.take("expired_urls") else self.ctx.faults.config.url_ttl_s
        expires = int(time.time() + ttl)
        signature = hmac.new(SIGNING_KEY, f"{name}:{expires}".encode(), hashlib.sha256).hexdigest()
        url = f"{self.ctx.base_url}/_artifacts/{name}?expires={expires}&signature={signature}"
        return Response.of_json({"url": url})

    def download(self, request: Request) -> Response:
        """The signed URL's target (object storage in production): no API key, a signature instead."""
        name = request.params["name"]
        try:
            expires = int(request.arg("expires") or "")
        except ValueError:
            expires = 0
        expected = hmac.new(SIGNING_KEY, f"{name}:{expires}".encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, request.arg("signature") or ""):
            return _storage_error(403, "SignatureDoesNotMatch", "The request signature does not match.")
        if time.time() > expires:
            return _storage_error(403, "AccessDenied", "Request has expired")
        body = self.artifacts.get(name)
        if body is None:
            return _storage_error(404, "NoSuchKey", "The specified key does not exist.")
        return Response(200, body, {"Content-Type": "application/zip"})


def _storage_error(status: int, code: str, message: str) -> Response:
    body = f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code><Message>{message}</Message></Error>"
    return Response(status, body.encode(), {"Content-Type": "application/xml"})
