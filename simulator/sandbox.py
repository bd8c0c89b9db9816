"""The sandbox: one world, five vendor APIs, the control endpoints, and fault injection."""

from __future__ import annotations

import threading
from http.server import ThreadingHTTPServer
from typing import Any

from simulator import control
from simulator.context import VendorContext
from simulator.faults import FaultConfig, FaultInjector
from simulator.http import Drop, HttpError, Request, Response, Route, Router, make_server, sleep_ms
from simulator.identity import DEFAULT_IDENTITY
from simulator.vendors import MODULES
from simulator.world import World, generate


class Sandbox:
    def __init__(self, seed: int = 7, scale: float = 1.0, faults: FaultConfig | None = None,
                 work_budget: int = 20_000, world: str = "default", identity: str = DEFAULT_IDENTITY,
                 no_channel: float | None = None) -> None:
        self.seed = seed
        self.scale = scale
        self.world: World = generate(seed, scale, world, identity, no_channel)
        self.lock = threading.RLock()  # guards the clock and mutable vendor state
        self.faults = FaultInjector(seed, faults)
        self.base_url = ""
        # Each vendor sees the sandbox only through its own narrow context.
        self.contexts = {name: VendorContext(name, self.world, self.lock, self.faults, work_budget)
                         for name in MODULES}
        self.vendors: dict[str, Any] = {name: module.Vendor(self.contexts[name]) for name, module in MODULES.items()}

    @property
    def clock(self) -> int:
        return self.world.clock

    def router(self) -> Router:
        router = Router()
        for name, vendor in self.vendors.items():
            for method, path, handler in vendor.routes():
                router.add(method, f"/{name}{path}", handler, name)
        for method, path, handler in control.routes(self):
            router.add(method, path, handler, "_sim")
        for vendor in self.vendors.values():
            for method, path, handler in getattr(vendor, "control_routes", list)():
                router.add(method, path, handler, "_sim")
        return router

    def before(self, route: Route, request: Request) -> Response | None:
        """Fault injection for vendor routes; the control routes are never faulted."""
        if route.vendor == "_sim":
            return None
        decision = self.faults.decide(route.vendor)
        if decision == "drop":
            raise Drop(partial=self.faults.coin())
        if decision == "5xx":
            status = (500, 502, 503)[int(self.faults.coin()) + int(self.faults.coin())]
            raise HttpError(Response.of_json({"error": "Internal Server Error"}, status))
        if decision == "429":
            after = str(self.faults.config.retry_after)
            raise HttpError(Response.of_json({"error": "Too Many Requests"}, 429, {"Retry-After": after}))
        if decision == "slow":
            sleep_ms(self.faults.config.slow_ms)
        return None

    def serve(self, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
        server = make_server(host, port, self.router(), self.before)
        self.base_url = f"http://{host}:{server.server_address[1]}"
        for name, ctx in self.contexts.items():
            ctx.base_url = f"{self.base_url}/{name}"
        return server

    def describe(self) -> dict[str, Any]:
        return {
            name: {"base_url": ctx.base_url, "credentials": MODULES[name].CREDENTIALS}
            for name, ctx in self.contexts.items()
        }
