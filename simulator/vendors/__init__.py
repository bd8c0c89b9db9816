"""The sandbox's vendors: one module each, registered here. Each module declares `NAME`, `CREDENTIALS`
and a `Vendor(ctx: VendorContext)` with `routes()`; a tracking vendor also has `truth_counts()`,
`reported()` and `observed_touches()` for the ground-truth endpoints, and any vendor may add
`control_routes()` under `/_sim/`. No vendor module imports another."""

from __future__ import annotations

from types import ModuleType

from simulator.vendors import clickmagick, convertloop, improvely, integr8, webmarketer

MODULES: dict[str, ModuleType] = {m.NAME: m for m in (clickmagick, integr8, webmarketer, improvely, convertloop)}
NAMES = tuple(MODULES)
