"""What truly caused the conversions: each channel's incremental conversions and revenue under the world's
causal model (`simulator/causal.py`: the default, or the variant the world was served with), the yardstick
attribution models are scored against.

For a visitor with channels P on its path, p(S) is its chance of converting had only the channels in S ⊆ P
reached it: with only the touches of S (a channel that never happened brings no touches), and in the
`position` world the first and last of those touches.
- removal effect of c: p(P) - p(P without c), summed over visitors: the conversions lost without c.
- Shapley value of c in the game v(S) = p(S) - p(∅): its fair share of what the channels add together over
  the baseline p(∅); the values of a visitor's channels sum to p(P) - p(∅) (channels it never met get 0).
Revenue is conversions times the expected revenue of a conversion (a sale with probability KIND_P[0], of
lognormal revenue), in the visitor's brand currency. Visitors count once their journey has ended by the
clock (their last touch is at or before it), whether or not they converted; the horizon that cuts off late
conversions in the world is ignored.
"""

from __future__ import annotations

from math import exp, factorial
from typing import Any

import numpy as np

from simulator.causal import WORLDS, CausalModel, Journeys
from simulator.world import BRANDS, CHANNELS, KIND_P, SALE_LOG_MEAN, SALE_LOG_SD, World, visitor_journeys

CHUNK = 20_000  # visitors per step: 256 coalitions each
EXPECTED_REVENUE = KIND_P[0] * exp(SALE_LOG_MEAN + SALE_LOG_SD**2 / 2)


def _coalitions(k: int) -> np.ndarray:
    """Row m holds 1 for each channel in coalition m (the bits of m)."""
    return ((np.arange(1 << k)[:, None] >> np.arange(k)) & 1).astype(float)


def _effects(journeys: Journeys, model: CausalModel = WORLDS["default"]
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per visitor: p(P), p(∅), removal effects and Shapley values."""
    k = len(CHANNELS)
    member = _coalitions(k)
    p = model.probability(journeys, member)  # visitors x coalitions
    everything = (1 << k) - 1
    removal = np.stack([p[:, everything] - p[:, everything ^ (1 << c)] for c in range(k)], axis=1)
    sizes = member.sum(axis=1).astype(int)
    weight = np.array([factorial(s) * factorial(k - s - 1) / factorial(k) if s < k else 0.0 for s in sizes])
    masks = np.arange(1 << k)
    shapley = np.empty_like(removal)
    for c in range(k):
        without = masks[(masks >> c) & 1 == 0]
        shapley[:, c] = (p[:, without | (1 << c)] - p[:, without]) @ weight[without]
    return p[:, everything], p[:, 0], removal, shapley


def journey_credits(journeys: Journeys, model: CausalModel = WORLDS["default"]) -> tuple[np.ndarray, np.ndarray]:
    """Each converting journey's credit per channel as the causal model itself gives it, two ways, from one pass
    over its Shapley values (negative ones as none):
    - summing to one: the values normalised (a journey whose channels add nothing: split by touches). What a
      data-driven model of exactly the world's form and parameters would credit, as every model in the
      warehouse credits; the accuracy bench scores it on the journeys a warehouse holds.
    - incremental: the values over the journey's chance of converting, p(P). A converter stands for 1 / p(P)
      visitors like it, so these credits summed over the converters estimate the channels' Shapley conversions
      over every visitor (`channel_effects`); rows sum to less than one (the rest, p(∅) / p(P), is the baseline).
    Summing to one weighs each converter's split alike whatever its baseline: the two differ in their channel
    shares even under the world's own model."""
    credit = np.zeros_like(journeys.counts, dtype=float)
    chance = np.zeros(len(credit))
    for lo in range(0, len(credit), CHUNK):
        rows = np.arange(lo, min(lo + CHUNK, len(credit)))
        chance[rows], _, _, shapley = _effects(journeys[rows], model)
        credit[rows] = np.clip(shapley, 0.0, None)
    total = credit.sum(axis=1, keepdims=True)
    touches = journeys.counts.sum(axis=1, keepdims=True)
    # a journey whose channels add nothing is split by its touches, as the warehouse's models split it
    by_touches = np.divide(journeys.counts, touches, out=np.zeros_like(credit), where=touches > 0)
    return np.where(total > 0, credit / np.where(total > 0, total, 1.0), by_touches), credit / chance[:, None]


def journey_credit(journeys: Journeys, model: CausalModel = WORLDS["default"]) -> np.ndarray:
    """Each journey's credit per channel summing to one (`journey_credits`)."""
    return journey_credits(journeys, model)[0]


def channel_effects(world: World, until: int | None = None) -> dict[str, Any]:
    """The true effect of every channel over the visitors whose journeys ended by `until` (default: the clock)."""
    v, t = world.visitors, world.touches
    until = world.clock if until is None else until
    last_touch = t["time"][v["touch_start"] + v["touch_count"] - 1]
    who = np.flatnonzero(last_touch <= until)
    paths = visitor_journeys(world)
    currencies = sorted({brand.currency for brand in BRANDS})
    currency_of = np.array([currencies.index(brand.currency) for brand in BRANDS])[v["brand"]]
    k = len(CHANNELS)
    totals = {"expected": 0.0, "baseline": 0.0}
    removal, shapley = np.zeros(k), np.zeros(k)
    removal_rev, shapley_rev = np.zeros((len(currencies), k)), np.zeros((len(currencies), k))
    for lo in range(0, len(who), CHUNK):
        chunk = who[lo : lo + CHUNK]
        full, base, rem, sha = _effects(paths[chunk], world.causal)
        totals["expected"] += full.sum()
        totals["baseline"] += base.sum()
        removal += rem.sum(axis=0)
        shapley += sha.sum(axis=0)
        for i in range(len(currencies)):
            mine = currency_of[chunk] == i
            removal_rev[i] += rem[mine].sum(axis=0) * EXPECTED_REVENUE
            shapley_rev[i] += sha[mine].sum(axis=0) * EXPECTED_REVENUE
    attributable = shapley.sum()
    return {
        "world": world.causal.name,
        "no_channel_chance": world.causal.no_channel,  # p(∅) when set (serve --no-channel-chance), else null
        "visitors": len(who),
        "expected_conversions": totals["expected"],
        "baseline_conversions": totals["baseline"],
        "channels": [
            {
                "channel": name,
                "removal_conversions": removal[c],
                "removal_share": removal[c] / removal.sum() if removal.sum() > 0 else 0.0,
                "shapley_conversions": shapley[c],
                "shapley_share": shapley[c] / attributable if attributable > 0 else 0.0,
                "removal_revenue": {cur: removal_rev[i, c] for i, cur in enumerate(currencies)},
                "shapley_revenue": {cur: shapley_rev[i, c] for i, cur in enumerate(currencies)},
            }
            for c, name in enumerate(CHANNELS)
        ],
    }
