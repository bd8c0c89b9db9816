"""What a vendor emulation may use of the sandbox: the world and its clock, fault decisions, and a
place to record what a write-only vendor accepted. Nothing else (no other vendor, no router)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from simulator.faults import FaultInjector
from simulator.world import World


@dataclass
class VendorContext:
    name: str
    world: World
    lock: threading.RLock  # guards the clock and mutable vendor state
    faults: FaultInjector
    work_budget: int  # work units per key per 5 minutes, for vendors that meter work
    received: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # accepted calls, by resource
    base_url: str = ""  # this vendor's root URL, known once the server listens

    @property
    def clock(self) -> int:
        return self.world.clock

    def visible(self, table: dict[str, np.ndarray], lo: int = 0, hi: int | None = None) -> np.ndarray:
        """Indices in [lo, hi) of `table` whose records the clock has revealed."""
        hi = len(table["visible_at"]) if hi is None else hi
        return lo + np.flatnonzero(table["visible_at"][lo:hi] <= self.clock)

    def record(self, resource: str, call: dict[str, Any]) -> None:
        with self.lock:
            self.received.setdefault(resource, []).append(call)
