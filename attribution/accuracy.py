"""How right each attribution model is: the total-variation distance between its channel shares and the true
shares of incremental conversions (the sandbox's `/_sim/truth/channel_effects`, Shapley of the world's
conversion probability). 0 means the model splits credit exactly as the channels caused conversions; 1 means
it gives all credit to channels that caused none.

Conversions without any observed touch have no rows in `marts.attribution` (they are counted apart in
`data_quality`): no model can credit a channel it never saw.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import duckdb

MODEL_SHARES = "select attribution_model, channel, sum(credit) as credit from marts.attribution group by all"
SHARE_INTERVALS = """select attribution_model, channel, share_low, share_high from marts.attribution_shares
                     where currency = 'all' and share_low is not null"""


def total_variation(shares: Mapping[str, float], truth: Mapping[str, float]) -> float:
    """½ Σ |p_c − q_c| over every channel of either side, each side normalised to sum 1 (a missing channel is 0)."""
    p_total, q_total = sum(shares.values()), sum(truth.values())
    if p_total <= 0 or q_total <= 0:
        raise ValueError("both sides need some credit to compare")
    channels = set(shares) | set(truth)
    return 0.5 * sum(abs(shares.get(c, 0.0) / p_total - truth.get(c, 0.0) / q_total) for c in channels)


def model_shares(warehouse: str) -> dict[str, dict[str, float]]:
    """Each model's credited conversions per channel, from `marts.attribution`."""
    out: dict[str, dict[str, float]] = {}
    with duckdb.connect(warehouse, read_only=True) as con:
        for model, channel, credit in con.execute(MODEL_SHARES).fetchall():
            out.setdefault(model, {})[channel] = float(credit)
    return out


def true_shares(channel_effects: Mapping[str, Any], key: str = "shapley_share") -> dict[str, float]:
    return {c["channel"]: float(c[key]) for c in channel_effects["channels"]}


def accuracy(warehouse: str, channel_effects: Mapping[str, Any]) -> list[tuple[str, float]]:
    """(model, distance to the true shares), best first."""
    truth = true_shares(channel_effects)
    scores = [(model, total_variation(shares, truth)) for model, shares in model_shares(warehouse).items()]
    return sorted(scores, key=lambda pair: pair[1])


def coverage(warehouse: str, channel_effects: Mapping[str, Any]) -> dict[str, tuple[int, int]]:
    """Per model with intervals (marts.attribution_shares, every currency together): (channels whose true share
    lies inside the 90% interval, channels)."""
    truth = true_shares(channel_effects)
    total = sum(truth.values())
    out: dict[str, tuple[int, int]] = {}
    with duckdb.connect(warehouse, read_only=True) as con:
        for model, channel, low, high in con.execute(SHARE_INTERVALS).fetchall():
            inside, seen = out.get(model, (0, 0))
            out[model] = (inside + int(low <= truth.get(channel, 0.0) / total <= high), seen + 1)
    return out
