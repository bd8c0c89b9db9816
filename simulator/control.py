"""Control endpoints under `/_sim/`: the clock, ground truth, what write-only vendors received, faults."""

from __future__ import annotations

import json
import threading
from dataclasses import asdict
from typing import Any, Protocol

import numpy as np

from simulator import effects, views
from simulator.context import VendorContext
from simulator.faults import FaultInjector, config_from
from simulator.http import HttpError, Request, Response
from simulator.vendors.common import iso_z
from simulator.world import BRANDS, CHANNELS, World


class SandboxState(Protocol):
    """What the control endpoints read and change of a sandbox (simulator.sandbox.Sandbox is one)."""

    seed: int
    scale: float
    world: World
    lock: threading.RLock
    faults: FaultInjector
    contexts: dict[str, VendorContext]
    vendors: dict[str, Any]

    @property
    def clock(self) -> int: ...

    def describe(self) -> dict[str, Any]: ...

KIND_NAMES = ["sale", "action", "engagement"]


def _bad(message: str) -> HttpError:
    return HttpError(Response.of_json({"error": message}, 400))


def trackers(vendors: dict[str, Any]) -> dict[str, Any]:
    """The vendors that report conversions (they know the ground truth of what they saw)."""
    return {name: vendor for name, vendor in vendors.items() if hasattr(vendor, "truth_counts")}


def truth_counts(vendors: dict[str, Any]) -> dict[str, dict[str, int]]:
    return {name: vendor.truth_counts() for name, vendor in trackers(vendors).items()}


def truth_conversions(world: World, vendors: dict[str, Any]) -> list[dict[str, Any]]:
    """One line per real conversion any vendor has reported so far, with its true touch path."""
    c, t, clock = world.conversions, world.touches, world.clock
    tracking = trackers(vendors)
    seen = {name: vendor.reported() for name, vendor in tracking.items()}
    idx = np.flatnonzero(np.logical_or.reduce(list(seen.values())))
    rejected_by = np.logical_or.reduce([vendor.rejected() for vendor in tracking.values()
                                        if hasattr(vendor, "rejected")] or [np.zeros(len(c["time"]), dtype=bool)])
    refs = views.order_refs(world, idx)
    records = {name: vendor.record_ids(idx) for name, vendor in tracking.items()}
    brand = views.brand_of_conversion(world, idx)
    ids = views.visitor_ids(world, c["visitor"][idx])
    lines = []
    for i, conv in enumerate(idx):
        visitor = int(c["visitor"][conv])
        start = int(world.visitors["touch_start"][visitor])
        span = np.arange(start, start + int(world.visitors["touch_count"][visitor]))
        span = span[t["time"][span] < c["time"][conv]]
        utms = views.touch_utms(world, span)
        path = []
        observed_by = {name: vendor.observed_touches(int(conv), span, bool(seen[name][conv]))
                       for name, vendor in tracking.items()}
        for j, touch in enumerate(span):
            observed = [name for name, mask in observed_by.items() if mask[j]]
            path.append({"time": iso_z(int(t["time"][touch])), "channel": CHANNELS[t["channel"][touch]],
                         "source": utms["utm_source"][j], "medium": utms["utm_medium"][j],
                         "campaign": utms["utm_campaign"][j], "vendors": observed})
        rejected = bool(rejected_by[conv])
        status = "refunded" if c["refund_at"][conv] <= clock else "rejected" if rejected else "completed"
        lines.append({
            "order_ref": refs[i],
            "type": KIND_NAMES[c["kind"][conv]],
            "time": iso_z(int(c["time"][conv])),
            "revenue": float(c["revenue"][conv]),
            "currency": BRANDS[brand[i]].currency,
            "brand": BRANDS[brand[i]].key,
            "status": status,
            "vendors": [name for name, mask in seen.items() if mask[conv]],
            "records": {name: records[name][i] for name, mask in seen.items() if mask[conv]},
            "email": ids["email"][i],
            "person": ids["cmc_vid"][i],
            "path": path,
        })
    return lines


def routes(sb: SandboxState) -> list[tuple[str, str, Any]]:
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
            return Response.of_json({"clock": iso_z(sb.clock), "counts": truth_counts(sb.vendors)})

    def conversions(_: Request) -> Response:
        with sb.lock:
            lines = truth_conversions(sb.world, sb.vendors)
        body = "".join(json.dumps(line, separators=(",", ":")) + "\n" for line in lines).encode()
        return Response(200, body, {"Content-Type": "application/x-ndjson"})

    def channel_effects(_: Request) -> Response:
        with sb.lock:
            return Response.of_json({"clock": iso_z(sb.clock), **effects.channel_effects(sb.world)})

    def received(_: Request) -> Response:
        with sb.lock:
            return Response.of_json({name: dict(ctx.received) for name, ctx in sb.contexts.items() if ctx.received})

    def held(_: Request) -> Response:
        """What each write-only vendor holds now (e.g. ConvertLoop's people and their segments)."""
        with sb.lock:
            return Response.of_json({name: vendor.held() for name, vendor in sb.vendors.items()
                                     if hasattr(vendor, "held")})

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

    def info(_: Request) -> Response:
        return Response.of_json({"seed": sb.seed, "scale": sb.scale, "world": sb.world.causal.name,
                                 "no_channel_chance": sb.world.causal.no_channel,
                                 "identity": sb.world.identity, "clock": iso_z(sb.clock),
                                 "vendors": sb.describe()})

    return [
        ("GET", "/_sim/clock", clock),
        ("POST", "/_sim/advance", advance),
        ("GET", "/_sim/truth", truth),
        ("GET", "/_sim/truth/conversions", conversions),
        ("GET", "/_sim/truth/channel_effects", channel_effects),
        ("GET", "/_sim/received", received),
        ("GET", "/_sim/held", held),
        ("GET", "/_sim/faults", get_faults),
        ("POST", "/_sim/faults", set_faults),
        ("GET", "/_sim/info", info),
    ]

