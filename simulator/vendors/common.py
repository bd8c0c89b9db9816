"""Pieces every vendor emulation uses: time parsing, cursors, window selection, and a work meter."""

from __future__ import annotations

import base64
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from simulator.http import HttpError, Request, Response

ErrorFactory = Callable[[int, str], Response]


def parse_instant(text: str, tz: str = "UTC") -> int:
    """Epoch seconds from ISO-8601/RFC3339 (`Z`, offsets, or naive wall time in `tz`). Raises ValueError."""
    value = text.strip().replace(" ", "T", 1) if "T" not in text else text.strip()
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=ZoneInfo(tz))
    return int(parsed.timestamp())


def zone(name: str, error: ErrorFactory) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise HttpError(error(400, f"unknown timezone {name!r}")) from None
    return name


def window(request: Request, start_key: str, end_key: str, error: ErrorFactory, tz: str = "UTC",
           required: bool = False) -> tuple[int | None, int | None]:
    """The [start, end) window of a request, validated; (None, None) when absent and optional."""
    start, end = request.arg(start_key), request.arg(end_key)
    if start is None and end is None and not required:
        return None, None
    if start is None or end is None:
        raise HttpError(error(400, f"{start_key} and {end_key} must be used together"))
    try:
        lo, hi = parse_instant(start, tz), parse_instant(end, tz)
    except ValueError:
        raise HttpError(error(400, f"invalid date-time in {start_key}/{end_key}")) from None
    if hi < lo:
        raise HttpError(error(400, f"{end_key} is before {start_key}"))
    return lo, hi


def int_arg(request: Request, name: str, default: int | None, lo: int, hi: int, error: ErrorFactory) -> int:
    raw = request.arg(name)
    if raw is None:
        if default is None:
            raise HttpError(error(400, f"missing required parameter {name}"))
        return default
    try:
        value = int(raw)
    except ValueError:
        raise HttpError(error(400, f"{name} must be an integer")) from None
    if not lo <= value <= hi:
        raise HttpError(error(400, f"{name} must be between {lo} and {hi}"))
    return value


def time_slice(times: np.ndarray, lo: int | None, hi: int | None) -> tuple[int, int]:
    """Row range of a time-sorted column for [lo, hi)."""
    start = 0 if lo is None else int(np.searchsorted(times, lo, "left"))
    stop = len(times) if hi is None else int(np.searchsorted(times, hi, "left"))
    return start, stop


def encode_cursor(direction: str, position: int) -> str:
    return base64.urlsafe_b64encode(f"{direction}:{position}".encode()).decode().rstrip("=")


def decode_cursor(token: str, error: ErrorFactory) -> tuple[str, int]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        direction, position = raw.split(":")
        if direction not in ("n", "p"):
            raise ValueError(direction)
        return direction, int(position)
    except ValueError:
        raise HttpError(error(400, "invalid cursor")) from None


def iso_z(epoch_s: int) -> str:
    return datetime.fromtimestamp(epoch_s, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class WorkMeter:
    """Units of work per key over a sliding window (ClickMagick limits work per 5 minutes)."""

    def __init__(self, budget: int, window_s: float = 300.0) -> None:
        self.budget = budget
        self.window_s = window_s
        self._spent: deque[tuple[float, int]] = deque()
        self._lock = threading.Lock()

    def charge(self, units: int) -> int | None:
        """Charge `units`; returns None if allowed, else the seconds to wait before retrying."""
        now = time.monotonic()
        with self._lock:
            while self._spent and self._spent[0][0] <= now - self.window_s:
                self._spent.popleft()
            used = sum(u for _, u in self._spent)
            if used + units <= self.budget:
                self._spent.append((now, units))
                return None
            # Wait until enough of the oldest work has left the window.
            need, freed = used + units - self.budget, 0
            for stamp, spent in self._spent:
                freed += spent
                if freed >= need:
                    return max(1, math.ceil(stamp + self.window_s - now))
            return math.ceil(self.window_s)
