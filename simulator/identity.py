"""How hard the vendors' records of one order or one person are to tie together (`serve --identity NAME`).

- `easy`: every conversion record carries the order reference, or identifiers that tie it to a ClickMagick
  record of the same order (Integr8's click id seen by ClickMagick as s2; the email ClickMagick has too), so
  de-duplication can be exact. The default until 2026-12-05.
- `hard` (the default, DEFAULT_IDENTITY): on top of that, what real data do:
  - records without a shared key: KEYLESS_SHARE of Integr8's conversions and of Webmarketer's events come
    without the order reference whatever else they carry (a thank-you page that did not pass it on), so some
    are tied to their order by nothing but their time, type, value and brand;
  - typos: TYPO_SHARE of Webmarketer's events carry the buyer's email with a mistyped domain, as typed into a
    form (DOMAIN_TYPOS), so the email no longer matches ClickMagick's;
  - repeat buyers: REPEAT_SHARE of sales are followed by another sale from the same buyer, SOON_SHARE of them
    minutes later (a forgotten item: two real orders of one person and type within any sensible de-duplication
    window), the rest days later;
  - a second device: SECOND_DEVICE_SHARE of the later repeat orders are placed on another device, where
    ClickMagick sees a new visitor with no tracked click, Webmarketer a new tracker (the same account), and
    Integr8 nothing (no click of its own on that device to post back on).

The hard world draws from random streams of its own (seeded by the world's seed): the easy world's draws, and
so its tables, are unchanged, and the same visitors convert in both (a repeat order is its buyer's second).
"""

from __future__ import annotations

import numpy as np

IDENTITIES = ("easy", "hard")
DEFAULT_IDENTITY = "hard"  # since 2026-12-05; the easy world is what every figure before then was measured on
KEYLESS_SHARE = 0.04
TYPO_SHARE = 0.03
DOMAIN = "@mail.example.com"
DOMAIN_TYPOS = ("@mial.example.com", "@mail.exmaple.com", "@mail.example.con", "@mail.examle.com")
REPEAT_SHARE = 0.10
SOON_SHARE = 0.25
SOON_SECONDS = (2 * 60, 25 * 60)
LATER_SECONDS = (86_400, 30 * 86_400)
SECOND_DEVICE_SHARE = 0.5
REPEAT_STREAM, HARDEN_STREAM = 0x2E, 0x1D  # the hard world's own random streams, beside the world's seed


def repeat_orders(conversions: dict[str, np.ndarray], rng: np.random.Generator, horizon_end: int
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The hard world's repeat orders, all sales: (buyer, time, placed on a second device) of each, from the
    world's first orders (generated easy)."""
    c = conversions
    sales = np.flatnonzero(c["kind"] == 0)
    again = sales[rng.random(len(sales)) < REPEAT_SHARE]
    r = len(again)
    soon = rng.random(r) < SOON_SHARE
    gap = np.where(soon, rng.integers(*SOON_SECONDS, r), rng.integers(*LATER_SECONDS, r))
    second_device = ~soon & (rng.random(r) < SECOND_DEVICE_SHARE)
    time = c["time"][again] + gap
    inside = time < horizon_end
    return c["visitor"][again][inside], time[inside], second_device[inside]


def second_device(conversions: dict[str, np.ndarray]) -> np.ndarray:
    """Which orders were placed on a device other than the one the buyer's touches reached (none in the easy
    world, which has no such column)."""
    placed = conversions.get("second_device")
    return np.zeros(len(conversions["time"]), dtype=bool) if placed is None else placed


def harden(conversions: dict[str, np.ndarray], seed: int) -> None:
    """Turn a world's conversions (generated easy) into the hard identity world's."""
    c = conversions
    m = len(c["time"])
    rng = np.random.default_rng([seed, HARDEN_STREAM])
    c["i8_ref_missing"] = c["i8_ref_missing"] | (rng.random(m) < KEYLESS_SHARE)
    c["wm_ref_missing"] = c["wm_ref_missing"] | (rng.random(m) < KEYLESS_SHARE)
    # 0: typed right; k: typed with DOMAIN_TYPOS[k - 1]
    c["wm_email_typo"] = np.where(rng.random(m) < TYPO_SHARE, rng.integers(1, len(DOMAIN_TYPOS) + 1, m), 0)


def as_typed(email: str | None, typo: int) -> str | None:
    """The email as the buyer typed it into Webmarketer's form (`typo` from `harden`)."""
    if email is None or not typo:
        return email
    return email.replace(DOMAIN, DOMAIN_TYPOS[typo - 1])
