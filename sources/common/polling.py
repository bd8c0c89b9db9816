"""Waiting on a vendor's asynchronous job (Integr8's Download Center exports, ClickMagick's stats reports):
poll with a growing pause until the job answers, or give up with a clear error after a timeout."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from vendor_http import VendorError, pause

T = TypeVar("T")


def poll_until(check: Callable[[], T | None], *, vendor: str, endpoint: str, what: str, timeout_s: float,
               first_s: float = 0.2, max_s: float = 10.0, growth: float = 1.6) -> T:
    """Call `check` until it returns something other than None, pausing `first_s`, then `growth` times longer
    each time (at most `max_s`); a VendorError naming `what` when `timeout_s` would pass first."""
    deadline = time.monotonic() + timeout_s
    delay = first_s
    while True:
        answer = check()
        if answer is not None:
            return answer
        if time.monotonic() + delay > deadline:
            raise VendorError(vendor, endpoint, f"{what} not ready after {timeout_s:.0f}s")
        pause(delay)
        delay = min(max_s, delay * growth)
