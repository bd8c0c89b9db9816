"""Fault injection: what can go wrong between us and a vendor, at configurable rates.

Decisions come from one seeded random stream, so a given request sequence meets the same faults.
"""

from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass, fields
from typing import Any


@dataclass
class FaultConfig:
    rate_5xx: float = 0.0  # share of requests answered 500/502/503
    rate_drop: float = 0.0  # share of requests whose connection is dropped
    rate_429: float = 0.0  # share of requests that start a storm of 429s
    storm_length: int = 3  # requests refused per storm
    retry_after: int = 1  # seconds announced in Retry-After during a storm
    rate_slow: float = 0.0  # share of requests delayed by slow_ms
    slow_ms: int = 0
    export_error_rate: float = 0.0  # share of Integr8 exports that end in ERROR
    url_ttl_s: float = 300.0  # lifetime of Integr8 signed download URLs
    expired_urls: int = 0  # the next N signed URLs are issued already expired
    failed_exports: int = 0  # the next N Integr8 exports end in ERROR
    token_ttl_s: float = 3600.0  # lifetime of Webmarketer access tokens
    vendors: tuple[str, ...] | None = None  # vendors the request faults apply to; None: every vendor


PROFILES: dict[str, dict[str, Any]] = {
    "none": {},
    "flaky": {"rate_5xx": 0.10, "rate_drop": 0.03, "rate_429": 0.03},
    "storm": {"rate_429": 0.15, "storm_length": 4},
    "slow": {"rate_slow": 0.3, "slow_ms": 400},
    "exports": {"export_error_rate": 0.5, "expired_urls": 3},
    "chaos": {"rate_5xx": 0.10, "rate_drop": 0.03, "rate_429": 0.03, "export_error_rate": 0.3, "expired_urls": 3,
              "token_ttl_s": 5.0},
}


def config_from(profile: str | None = None, **overrides: Any) -> FaultConfig:
    if profile and profile not in PROFILES:
        raise ValueError(f"unknown fault profile {profile!r}; choose from {', '.join(PROFILES)}")
    values = {**PROFILES.get(profile or "none", {}), **overrides}
    known = {f.name for f in fields(FaultConfig)}
    unknown = set(values) - known
    if unknown:
        raise ValueError(f"unknown fault settings: {', '.join(sorted(unknown))}")
    if "vendors" in values:
        values["vendors"] = tuple(values["vendors"])
    return FaultConfig(**values)


class FaultInjector:
    def __init__(self, seed: int, config: FaultConfig | None = None) -> None:
        self.config = config or FaultConfig()
        self._rng = random.Random(seed * 7919 + 1)
        self._lock = threading.Lock()
        self._storm_left: dict[str, int] = {}
        self.counts: dict[str, int] = {"requests": 0, "5xx": 0, "drop": 0, "429": 0, "slow": 0}

    def set(self, config: FaultConfig) -> None:
        with self._lock:
            self.config = config
            self._storm_left.clear()

    def decide(self, vendor: str) -> str | None:
        """One of '429', 'drop', '5xx', 'slow' or None for a request to `vendor`."""
        with self._lock:
            cfg = self.config
            self.counts["requests"] += 1
            if cfg.vendors is not None and vendor not in cfg.vendors:
                return None
            if self._storm_left.get(vendor, 0) > 0:
                self._storm_left[vendor] -= 1
                self.counts["429"] += 1
                return "429"
            r = self._rng.random()
            for name, rate in (("429", cfg.rate_429), ("drop", cfg.rate_drop), ("5xx", cfg.rate_5xx),
                               ("slow", cfg.rate_slow)):
                if r < rate:
                    if name == "429":
                        self._storm_left[vendor] = cfg.storm_length - 1
                    self.counts[name] += 1
                    return name
                r -= rate
            return None

    def take(self, budget: str) -> bool:
        """Spend one of a counted fault (`expired_urls`, `failed_exports`); False once none are left."""
        with self._lock:
            if getattr(self.config, budget) <= 0:
                return False
            setattr(self.config, budget, getattr(self.config, budget) - 1)
            self.counts[budget] = self.counts.get(budget, 0) + 1
            return True

    def roll(self, rate: float) -> bool:
        with self._lock:
            return self._rng.random() < rate

    def coin(self) -> bool:
        with self._lock:
            return self._rng.random() < 0.5

    def describe(self) -> dict[str, Any]:
        return {"config": asdict(self.config), "counts": dict(self.counts)}
