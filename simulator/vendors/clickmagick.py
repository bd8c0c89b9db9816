"""ClickMagick API v1 (`/v1/campaigns/...`): projects, settings, conversion logs, stats reports.

Conversion logs (sales, actions, engagements) are listed per attribution model; every record carries
`attribution_model` and `clicks`, the click(s) that model credits with their `share` (summing to 1).
The record's `utm_*` and click-id fields are those of the visitor's last tracked click, whatever the model.
"""

from __future__ import annotations

import itertools
import math
import time
from typing import TYPE_CHECKING, Any

import numpy as np

from simulator import views
from simulator.http import HttpError, Request, Response
from simulator.vendors.common import (
    WorkMeter,
    decode_cursor,
    encode_cursor,
    int_arg,
    iso_z,
    time_slice,
    window,
)
from simulator.world import ATTRIBUTION_MODELS, BRANDS, DAY, HORIZON_DAYS, TIME_DECAY_HALF_LIFE_S, World

if TYPE_CHECKING:
    from simulator.context import VendorContext

NAME = "clickmagick"
CREDENTIALS = {"api_key": "cm-sandbox-key"}

KINDS = {"sales": 0, "actions": 1, "engagements": 2}
UTM_FILTERS = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")
SALE_ID_OFFSET = 5_000_000
REPORT_SECONDS = 0.3  # a stats report answers 202 with its progress this long, then 200


def error(status: int, message: str) -> Response:
    return Response.of_json({"status": "ERROR", "errors": [message], "warnings": []}, status)


def sale_ids(world: World, conv: np.ndarray) -> np.ndarray:
    """The `id` ClickMagick gives each of the world's conversions: its order number, offset."""
    return world.conversions["number"][conv] + SALE_ID_OFFSET


def credit_shares(model: str, times: np.ndarray, conversion_time: int) -> np.ndarray:
    """Share of credit per click (time-ordered) under a ClickMagick attribution model."""
    n = len(times)
    if n == 0:
        return np.zeros(0)
    shares = np.zeros(n)
    if model == "first_click":
        shares[0] = 1.0
    elif model == "last_click":
        shares[-1] = 1.0
    elif model == "linear":
        shares[:] = 1.0 / n
    elif model == "pos_based":
        if n == 1:
            shares[0] = 1.0
        elif n == 2:
            shares[:] = 0.5
        else:
            shares[0] = shares[-1] = 0.4
            shares[1:-1] = 0.2 / (n - 2)
    elif model == "time_decay":
        weights = np.power(2.0, -(conversion_time - times) / TIME_DECAY_HALF_LIFE_S)
        shares = weights / weights.sum()
    else:
        raise ValueError(model)
    return shares


class Vendor:
    def __init__(self, ctx: VendorContext) -> None:
        self.ctx = ctx
        self.meter = WorkMeter(ctx.work_budget)
        self.reports: dict[int, dict[str, Any]] = {}
        self._report_ids = itertools.count(3_752_921)
        self._report_cache: dict[tuple[Any, ...], int] = {}

    # --- ground truth ---------------------------------------------------------------------------
    def reported(self) -> np.ndarray:
        """Which of the world's conversions ClickMagick has reported by now."""
        c = self.ctx.world.conversions
        return c["cm"] & (c["cm_visible_at"] <= self.ctx.clock)

    def observed_touches(self, conv: int, touches: np.ndarray, reported: bool) -> np.ndarray:
        """Which touches of a conversion's path ClickMagick shows (through its credits, so only when reported, and
        only for an order with a click ClickMagick tracked: none on a second device, world._orders)."""
        tracked = bool(self.ctx.world.conversions["cm_last_touch"][conv] >= 0)
        return self.ctx.world.touches["cm_observed"][touches] & reported & tracked

    def record_ids(self, conv: np.ndarray) -> np.ndarray:
        """Each conversion's record id here, as the API shows it (a sale's `id`, as text)."""
        return sale_ids(self.ctx.world, conv).astype(str).astype(object)

    def truth_counts(self) -> dict[str, int]:
        c, reported = self.ctx.world.conversions, self.reported()
        return {"projects": len(BRANDS), **{kind: int((reported & (c["kind"] == k)).sum())
                                            for kind, k in KINDS.items()}}

    def routes(self) -> list[tuple[str, str, Any]]:
        routes: list[tuple[str, str, Any]] = [
            ("GET", "/v1/campaigns/projects", self.projects),
            ("GET", "/v1/campaigns/projects/settings", self.settings),
            ("POST", "/v1/campaigns/projects/{project_id}/stats", self.create_report),
            ("POST", "/v1/campaigns/projects/{project_id}/stats/{model}", self.create_report),
            ("GET", "/v1/campaigns/projects/stats/reports/{report_id}", self.get_report),
        ]
        for kind in KINDS:
            handler = self._lister(kind)
            routes += [
                ("GET", f"/v1/campaigns/{kind}", handler),
                ("GET", f"/v1/campaigns/{kind}/{{model}}", handler),
                ("GET", f"/v1/campaigns/projects/{{project_id}}/{kind}", handler),
                ("GET", f"/v1/campaigns/projects/{{project_id}}/{kind}/{{model}}", handler),
            ]
        return routes

    # --- helpers -------------------------------------------------------------------------------
    def _auth(self, request: Request) -> None:
        if request.headers.get("x-apikey") != CREDENTIALS["api_key"]:
            raise HttpError(error(401, "Invalid or missing API key"))

    def _brand(self, project_id: str | None) -> int | None:
        if project_id is None:
            return None
        for b, brand in enumerate(BRANDS):
            if str(brand.cm_project_id) == project_id:
                return b
        raise HttpError(error(404, f"Project {project_id} not found"))

    def _model(self, request: Request) -> str:
        model = request.params.get("model", "last_click")
        if model not in ATTRIBUTION_MODELS:
            raise HttpError(error(400, f"Invalid attribution model {model!r}"))
        return model

    def _charge(self, lo: int | None, hi: int | None) -> None:
        days = HORIZON_DAYS if lo is None or hi is None else max(1, math.ceil((hi - lo) / DAY))
        wait = self.meter.charge(1 + days)
        if wait is not None:
            raise HttpError(Response.of_json(
                {"status": "ERROR", "errors": ["Rate limit exceeded: too much work in the last 5 minutes"],
                 "warnings": []}, 429, {"Retry-After": str(wait)}))

    # --- endpoints ------------------------------------------------------------------------------
    def projects(self, request: Request) -> Response:
        self._auth(request)
        search = (request.arg("search") or "").lower()
        rows = [{"id": b.cm_project_id, "name": b.key} for b in BRANDS if search in b.key.lower()]
        return Response.of_json({"projects": rows, "status": "OK", "errors": [], "warnings": []})

    def settings(self, request: Request) -> Response:
        self._auth(request)
        ids = request.query.get("id") or []
        if not ids:
            raise HttpError(error(400, "missing required parameter id"))
        rows = []
        for pid in ids:
            brand = BRANDS[self._brand(pid)]  # type: ignore[index]
            rows.append({"id": brand.cm_project_id, "name": brand.key, "time_zone": brand.time_zone,
                         "currency": brand.currency, "project_domain": None, "use_cogs": False,
                         "attribution_window": None})
        return Response.of_json({"projects": rows, "status": "OK", "errors": [], "warnings": []})

    def _lister(self, kind: str):
        def handler(request: Request) -> Response:
            return self.list_conversions(request, kind)

        return handler

    def list_conversions(self, request: Request, kind: str) -> Response:
        self._auth(request)
        model = self._model(request)
        brand = self._brand(request.params.get("project_id"))
        limit = int_arg(request, "limit", 100, 1, 100, error)
        lo, hi = window(request, "start_time", "end_time", error)
        cursor = request.arg("cursor")
        direction, position = decode_cursor(cursor, error) if cursor else ("n", -1)
        self._charge(lo, hi)

        world, c = self.ctx.world, self.ctx.world.conversions
        with self.ctx.lock:
            start, stop = time_slice(c["time"], lo, hi)
            idx = self.ctx.visible({"visible_at": c["cm_visible_at"]}, start, stop)
            idx = idx[c["cm"][idx] & (c["kind"][idx] == KINDS[kind])]
            if brand is not None:
                idx = idx[views.brand_of_conversion(world, idx) == brand]
            filters = {k: request.arg(k) for k in UTM_FILTERS if request.arg(k) is not None}
            if filters and len(idx):
                utms = views.touch_utms(world, c["cm_last_touch"][idx])
                has_click = c["cm_last_touch"][idx] >= 0
                keep = has_click.copy()
                for key, wanted in filters.items():
                    keep &= utms[key] == wanted
                idx = idx[keep]
            if direction == "n":
                page = idx[idx > position][:limit]
            else:
                page = idx[idx < position][-limit:]
            more_after = len(page) > 0 and bool((idx > page[-1]).any())
            more_before = len(page) > 0 and bool((idx < page[0]).any())
            records = self._records(page, model)
        return Response.of_json({
            "cursor": {
                "next": encode_cursor("n", int(page[-1])) if more_after else None,
                "prev": encode_cursor("p", int(page[0])) if more_before else None,
            },
            kind: records,
            "status": "OK",
            "errors": [],
            "warnings": [],
        })

    def _records(self, page: np.ndarray, model: str) -> list[dict[str, Any]]:
        if len(page) == 0:
            return []
        world, c = self.ctx.world, self.ctx.world.conversions
        visitor = c["visitor"][page]
        ids = views.buyer_ids(world, page)
        refs = views.order_refs(world, page)
        brand = views.brand_of_conversion(world, page)
        last = c["cm_last_touch"][page]
        utms = views.touch_utms(world, np.maximum(last, 0))
        click_ids = views.touch_click_ids(world, np.maximum(last, 0))
        sale_id = sale_ids(world, page)
        out = []
        for i, conv in enumerate(page):
            refunded = c["refund_at"][conv] <= self.ctx.clock
            has_last = last[i] >= 0
            record = {
                "id": int(sale_id[i]),
                "project_id": BRANDS[brand[i]].cm_project_id,
                "timestamp": iso_z(int(c["time"][conv])),
                "ref": refs[i],
                "amt": float(c["revenue"][conv]),
                "currency": BRANDS[brand[i]].currency,
                "cogs": 0.0,
                "status": "refunded" if refunded else "completed",
                "refund_time": iso_z(int(c["refund_at"][conv])) if refunded else None,
                "cmc_vid": ids["cmc_vid"][i],
                "s1": ids["email"][i] or ids["cmc_vid"][i],
                "email": ids["email"][i],
                "country": ids["country"][i],
                "ip": ids["ip"][i],
                **{k: (v[i] if has_last else None) for k, v in utms.items()},
                **{k: (v[i] if has_last else None) for k, v in click_ids.items()},
                "attribution_model": model,
                # no click ClickMagick tracked for the order (on a second device: none), none to credit
                "clicks": self._clicks(int(visitor[i]), int(c["time"][conv]), model) if has_last else [],
            }
            out.append(record)
        return out

    def _clicks(self, visitor: int, conversion_time: int, model: str) -> list[dict[str, Any]]:
        world, t = self.ctx.world, self.ctx.world.touches
        start = int(world.visitors["touch_start"][visitor])
        span = np.arange(start, start + int(world.visitors["touch_count"][visitor]))
        touch = span[t["cm_observed"][span] & (t["time"][span] < conversion_time)]
        shares = credit_shares(model, t["time"][touch], conversion_time)
        keep = shares > 0
        touch, shares = touch[keep], shares[keep]
        utms = views.touch_utms(world, touch)
        click_ids = views.touch_click_ids(world, touch)
        i8_click = t["i8_click"][touch]
        i8_ids = _i8_tx_ids(world, i8_click)
        return [
            {
                "click_id": int(touch[j]) + 70_000_000,
                "timestamp": iso_z(int(t["time"][touch[j]])),
                **{k: v[j] for k, v in utms.items()},
                **{k: v[j] for k, v in click_ids.items()},
                "s2": i8_ids[j],
                "share": float(shares[j]),
            }
            for j in range(len(touch))
        ]

    def create_report(self, request: Request) -> Response:
        self._auth(request)
        model = self._model(request)
        brand = self._brand(request.params["project_id"])
        body = request.form()
        request.query = body  # the report takes its window and filters from the form body
        lo, hi = window(request, "start_time", "end_time", error)
        filters = tuple((k, request.arg(k)) for k in UTM_FILTERS if request.arg(k) is not None)
        refresh = (request.arg("refresh") or "false").lower() in ("true", "1")
        key = (brand, model, lo, hi, filters)
        cached = self._report_cache.get(key)
        # A cached report is served unless asked to refresh or its window reaches into the last 24 hours,
        # which ClickMagick recomputes on every request (clicks keep coming in).
        if cached is not None and not refresh and hi is not None and hi <= self.ctx.clock - DAY:
            return Response.of_json({"report_id": cached, "status": "OK", "errors": [], "warnings": []})
        self._charge(lo, hi)
        report_id = next(self._report_ids)
        self.reports[report_id] = {"brand": brand, "model": model, "lo": lo, "hi": hi, "filters": dict(filters),
                                   "created": time.monotonic(), "clock": self.ctx.clock}
        self._report_cache[key] = report_id
        return Response.of_json({"report_id": report_id, "status": "OK", "errors": [], "warnings": []})

    def get_report(self, request: Request) -> Response:
        self._auth(request)
        try:
            report = self.reports[int(request.params["report_id"])]
        except (KeyError, ValueError):
            raise HttpError(error(404, "Report not found")) from None
        elapsed = time.monotonic() - report["created"]
        if elapsed < REPORT_SECONDS:
            return Response.of_json({"progress": {"percent": int(elapsed / REPORT_SECONDS * 100),
                                                  "message": "generating"}, "status": "OK"}, 202)
        if "stats" not in report:
            with self.ctx.lock:
                report["stats"] = self._report_stats(report)
        return Response.of_json({"last_updated": iso_z(report["clock"]), "progress": {"percent": 100},
                                 "stats": report["stats"], "status": "OK", "total_seconds": 1})

    def _report_stats(self, report: dict[str, Any]) -> dict[str, Any]:
        """Conversions under the report's model, and clicks, unique clicks and Auto Cost per UTC day and UTM
        source/medium/campaign, and per value of each UTM dimension over the whole window."""
        world, c = self.ctx.world, self.ctx.world.conversions
        lo, hi, clock = report["lo"], report["hi"], report["clock"]
        start, stop = time_slice(c["time"], lo, hi)
        idx = np.arange(start, stop)
        idx = idx[(c["cm_visible_at"][idx] <= clock) & c["cm"][idx]]
        idx = idx[views.brand_of_conversion(world, idx) == report["brand"]]
        kind = c["kind"][idx]
        clicks = views.click_stats(world, report["brand"], lo, min(hi, clock + 1) if hi is not None else clock + 1,
                                   report["filters"])
        return {
            "attribution_model": report["model"],
            "actions": int((kind == 1).sum()),
            "engagements": int((kind == 2).sum()),
            "sales": int((kind == 0).sum()),
            "revenue": round(float(c["revenue"][idx].sum()), 2),
            **clicks,
        }


def _i8_tx_ids(world: Any, i8_click: np.ndarray) -> list[str | None]:
    """Integr8 transaction id of each click (passed to the landing page as `s2`), or None."""
    ids = views.click_tx_ids(world, np.maximum(i8_click, 0))
    return [ids[j] if i8_click[j] >= 0 else None for j in range(len(i8_click))]
