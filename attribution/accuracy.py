"""How right each attribution model is: the total-variation distance between its channel shares and the true
shares of incremental conversions (the sandbox's `/_sim/truth/channel_effects`, Shapley of the world's
conversion probability). 0 means the model splits credit exactly as the channels caused conversions; 1 means
it gives all credit to channels that caused none.

Conversions without any observed touch have no rows in `marts.attribution` (they are counted apart in
`data_quality`): no model can credit a channel it never saw.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from itertools import combinations
from typing import Any

import duckdb

MODEL_SHARES = "select attribution_model, channel, sum(credit) as credit from marts.attribution group by all"
# Each vendor record: the conversion it was merged into (order_key is int_conversions__deduplicated's
# conversion_id) and the person it was stitched to.
RECORD_GROUPS = """select vendor, record_id, order_key, person_id
                   from intermediate.int_conversion_records__matched"""
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


def pairwise(predicted: Mapping[Any, Any], truth: Mapping[Any, Any]) -> tuple[float, float]:
    """Pairwise precision and recall of a grouping (item -> group) against the true one, over the items both
    know: of the pairs put together, the share truly together; of the pairs truly together, the share put
    together. 1.0 where there is no pair to get wrong."""
    items = predicted.keys() & truth.keys()
    ours, true = _pairs(items, predicted), _pairs(items, truth)
    both = len(ours & true)
    return (both / len(ours) if ours else 1.0), (both / len(true) if true else 1.0)


def _pairs(items: Iterable[Any], group: Mapping[Any, Any]) -> set[frozenset[Any]]:
    members: dict[Any, list[Any]] = {}
    for item in items:
        members.setdefault(group[item], []).append(item)
    return {frozenset(pair) for grouped in members.values() for pair in combinations(grouped, 2)}


def record_grouping(warehouse: str, truth_lines: Iterable[Mapping[str, Any]]) -> dict[str, tuple[float, float]]:
    """How right the warehouse groups vendor records, against /_sim/truth/conversions: `deduplication` (records
    of one real order made one conversion) and `stitching` (records of one person given one person_id), each as
    (pairwise precision, pairwise recall) over the records both hold; `found`: (the truth's records the
    warehouse holds, the truth's records)."""
    order, person = {}, {}
    for line in truth_lines:
        for vendor, record_id in line["records"].items():
            order[(vendor, record_id)] = line["order_ref"]
            person[(vendor, record_id)] = line["person"]
    with duckdb.connect(warehouse, read_only=True) as con:
        rows = con.execute(RECORD_GROUPS).fetchall()
    found = len(order.keys() & {(v, r) for v, r, _, _ in rows})
    return {"deduplication": pairwise({(v, r): key for v, r, key, _ in rows}, order),
            "stitching": pairwise({(v, r): who for v, r, _, who in rows}, person),
            "found": (found, len(order))}
