"""Control endpoints under `/_sim/`: the clock, ground truth, what write-only vendors received, faults."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import numpy as np

from simulator import views
from simulator.faults import config_from
from simulator.http import HttpError, Request, Response
from simulator.vendors.common import iso_z
from simulator.vendors.integr8 import OFFER_CAMPAIGNS
from simulator.vendors.webmarketer import event_types
from simulator.world import BRANDS, CHANNELS, PUBLISHERS, WM_CAMPAIGNS, World

if TYPE_CHECKING:
    from simulator.sandbox import Sandbox

KIND_NAMES = ["sale", "action", "engagement"]


def _bad(message: str) -> HttpError:
    return HttpError(Response.of_json({"error": message}, 400))


def truth_counts(world: World) -> dict[str, dict[str, int]]:
    c, clock = world.conversions, world.clock
    cm = c["cm"] & (c["cm_visible_at"] <= clock)

    def visible(table: dict[str, np.ndarray]) -> int:
        return int((table["visible_at"] <= clock).sum())

    return {
        "clickmagick": {
            "projects": len(BRANDS),
            "sales": int((cm & (c["kind"] == 0)).sum()),
            "actions": int((cm & (c["kind"] == 1)).sum()),
            "engagements": int((cm & (c["kind"] == 2)).sum()),
        },
        "integr8": {
            "advertisers": len(BRANDS),
            "offers": len(OFFER_CAMPAIGNS),
            "publishers": len(PUBLISHERS),
            "clicks": visible(world.i8_clicks),
            "conversions": visible(world.i8_conversions),
            "impressions": visible(world.i8_impressions),
            "postback_logs": visible(world.i8_postbacks),
        },
        "webmarketer": {
            "projects": len(BRANDS),
            "event_types": sum(len(event_types(b)) for b in range(len(BRANDS))),
            "events": int((c["wm"] & (c["wm_visible_at"] <= clock)).sum()),
            "trashed_events": visible(world.wm_trash),
            "campaigns": len(WM_CAMPAIGNS),
            "outlays": visible(world.wm_outlays),
        },
    }


def reporting_vendors(world: World) -> dict[str, np.ndarray]:
    c, clock = world.conversions, world.clock
    return {v: c[v] & (c[f"{v}_visible_at"] <= clock) for v in ("cm", "i8", "wm")}


def truth_conversions(world: World) -> list[dict[str, Any]]:
    """One line per real conversion any vendor has reported so far, with its true touch path."""
    c, t, clock = world.conversions, world.touches, world.clock
    seen = reporting_vendors(world)
    idx = np.flatnonzero(seen["cm"] | seen["i8"] | seen["wm"])
    refs = views.order_refs(world, idx)
    brand = views.brand_of_conversion(world, idx)
    ids = views.visitor_ids(world, c["visitor"][idx])
    i8_click_visible = world.i8_clicks["visible_at"] <= clock
    lines = []
    for i, conv in enumerate(idx):
        visitor = int(c["visitor"][conv])
        start = int(world.visitors["touch_start"][visitor])
        span = np.arange(start, start + int(world.visitors["touch_count"][visitor]))
        span = span[t["time"][span] < c["time"][conv]]
        utms = views.touch_utms(world, span)
        path = []
        for j, touch in enumerate(span):
            observed = []
            if t["cm_observed"][touch] and seen["cm"][conv]:
                observed.append("clickmagick")
            click = t["i8_click"][touch]
            if click >= 0 and i8_click_visible[click]:
                observed.append("integr8")
            path.append({"time": iso_z(int(t["time"][touch])), "channel": CHANNELS[t["channel"][touch]],
                         "source": utms["utm_source"][j], "medium": utms["utm_medium"][j],
                         "campaign": utms["utm_campaign"][j], "vendors": observed})
        rejected = seen["i8"][conv] and c["i8_rejected"][conv] and c["i8_decided_at"][conv] <= clock
        status = "refunded" if c["refund_at"][conv] <= clock else "rejected" if rejected else "completed"
        lines.append({
            "order_ref": refs[i],
            "type": KIND_NAMES[c["kind"][conv]],
            "time": iso_z(int(c["time"][conv])),
            "revenue": float(c["revenue"][conv]),
            "currency": BRANDS[brand[i]].currency,
            "brand": BRANDS[brand[i]].key,
            "status": status,
            "vendors": [name for key, name in (("cm", "clickmagick"), ("i8", "integr8"), ("wm", "webmarketer"))
                        if seen[key][conv]],
            "email": ids["email"][i],
            "person": ids["cmc_vid"][i],
            "path": path,
        })
    return lines


def routes(sb: Sandbox) -> list[tuple[str, str, Any]]:
    def clock(_: Request) -> Response:
        return Response.of_json({"clock": iso_z(sb.clock), "epoch_s": sb.clock})

    def advance(request: Request) -> Response:
        try:
            hours = float(request.arg("hours") or (request.json() or {}).get("hours"))
        except (TypeError, ValueError):
            raise _bad("hours must be a number") from None
        if hours < 0:
            raise _bad("the clock only moves forward")
        with sb.lock:
            sb.world.advance(hours)
        return clock(request)

    def truth(_: Request) -> Response:
        with sb.lock:
            return Response.of_json({"clock": iso_z(sb.clock), "counts": truth_counts(sb.world)})

    def conversions(_: Request) -> Response:
        with sb.lock:
            lines = truth_conversions(sb.world)
        body = "".join(json.dumps(line, separators=(",", ":")) + "\n" for line in lines).encode()
        return Response(200, body, {"Content-Type": "application/x-ndjson"})

    def received(_: Request) -> Response:
        with sb.lock:
            return Response.of_json({vendor: dict(resources) for vendor, resources in sb.received.items()})

    def get_faults(_: Request) -> Response:
        return Response.of_json(sb.faults.describe())

    def set_faults(request: Request) -> Response:
        body = request.json() or {}
        if not isinstance(body, dict):
            raise _bad("body must be a JSON object")
        profile = body.pop("profile", None) or request.arg("profile")
        try:
            sb.faults.set(config_from(profile, **body))
        except (TypeError, ValueError) as exc:
            raise _bad(str(exc)) from None
        return Response.of_json({"config": asdict(sb.faults.config)})

    def expire_tokens(_: Request) -> Response:
        sb.vendors["webmarketer"].expire_all_tokens()
        return Response.of_json({"expired": True})

    def info(_: Request) -> Response:
        return Response.of_json({"seed": sb.seed, "scale": sb.scale, "clock": iso_z(sb.clock),
                                 "vendors": sb.describe()})

    return [
        ("GET", "/_sim/clock", clock),
        ("POST", "/_sim/advance", advance),
        ("GET", "/_sim/truth", truth),
        ("GET", "/_sim/truth/conversions", conversions),
        ("GET", "/_sim/received", received),
        ("GET", "/_sim/faults", get_faults),
        ("POST", "/_sim/faults", set_faults),
        ("POST", "/_sim/tokens/expire", expire_tokens),
        ("GET", "/_sim/info", info),
    ]

