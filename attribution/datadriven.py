"""Data-driven attribution over a path summary: Markov removal effect and Shapley values.

Both take the same input, a path summary DataFrame:

    path         channels in time order joined by " > " (e.g. "paid_search > email")
    conversions  converting journeys that followed the path
    value        their revenue
    nulls        journeys that followed the path and did not convert

and return one row per channel: `channel`, `conversions`, `value` (the credit), `share` (of the total).
Paths with no channel (conversions without any observed touch) carry no channel to credit and are
left out; their conversions are not redistributed.
"""

from __future__ import annotations

from collections import defaultdict
from math import factorial

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse.linalg import spsolve

SEP = " > "
MAX_SHAPLEY_CHANNELS = 16  # 2^16 coalitions; group channels more coarsely beyond that


def _clean(paths: pd.DataFrame) -> pd.DataFrame:
    """The paths with at least one channel, counts as floats; bad input is an error, never a silent credit."""
    missing = {"path", "conversions", "value", "nulls"} - set(paths.columns)
    if missing:
        raise ValueError(f"path summary lacks columns {sorted(missing)}")
    frame = paths.loc[paths["path"].fillna("").str.len() > 0, ["path", "conversions", "value", "nulls"]].copy()
    frame[["conversions", "value", "nulls"]] = frame[["conversions", "value", "nulls"]].astype(float)
    frame["value"] = frame["value"].fillna(0.0)  # no revenue recorded; a missing count is an error below
    for column, may_be_negative in (("conversions", False), ("nulls", False), ("value", True)):
        values = frame[column]
        bad = frame.index[~np.isfinite(values) | ((values < 0) & (not may_be_negative))]
        if len(bad):
            rule = "finite" if may_be_negative else "finite and not negative"
            raise ValueError(f"{column} must be {rule}; path {frame.at[bad[0], 'path']!r} has {values[bad[0]]}")
    empty = frame.loc[frame["path"].map(lambda p: any(not c.strip() for c in p.split(SEP))), "path"]
    if len(empty):
        raise ValueError(f"path {empty.iloc[0]!r} has an empty channel name")
    return frame


def _result(channels: list[str], weights: np.ndarray, conversions: float, value: float) -> pd.DataFrame:
    total = weights.sum()
    share = weights / total if total > 0 else np.zeros(len(channels))
    return pd.DataFrame({"channel": channels, "conversions": share * conversions, "value": share * value,
                         "share": share}).sort_values("channel", ignore_index=True)


def markov_attribution(paths: pd.DataFrame, order: int = 1, weight: str = "conversions") -> pd.DataFrame:
    """Credit channels by their removal effect in an absorbing Markov chain of order `order`.

    States are the last `order` channels seen, plus start, conversion and null (kept apart from channel
    states, so no channel name can collide with them). The probability of reaching conversion from start
    is solved exactly with a sparse solve of (I - Q) x = r, for the full chain and for the chain with
    each channel removed (every state holding it leads to null). Channel c gets conversions * RE_c /
    sum(RE) and value * RE_c / sum(RE), where RE_c = 1 - P(conversion without c) / P(conversion).
    With `weight="value"` the removal effect is that of the expected value instead (each path's revenue
    collected where it converts), as ChannelAttribution's `var_value`: a channel on the paths that bring the
    revenue weighs more than one on paths that convert as often for less.
    """
    if weight not in ("conversions", "value"):
        raise ValueError(f"weight must be 'conversions' or 'value', not {weight!r}")
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)) or order < 1:
        raise ValueError(f"order must be a whole number of at least 1, not {order!r}")
    frame = _clean(paths)
    if frame.empty:
        return _result([], np.zeros(0), 0.0, 0.0)
    sequences = [p.split(SEP) for p in frame["path"]]
    channels = sorted({c for seq in sequences for c in seq})
    start: tuple[str, ...] = ()  # the only state without a channel
    states: dict[tuple[str, ...], int] = {start: 0}
    sources, targets, weights = [], [], []
    to_conv, to_null, to_value = defaultdict(float), defaultdict(float), defaultdict(float)
    for seq, conv, nulls, value in zip(sequences, frame["conversions"], frame["nulls"], frame["value"], strict=True):
        previous = 0
        for i in range(len(seq)):
            current = states.setdefault(tuple(seq[max(0, i - order + 1) : i + 1]), len(states))
            sources.append(previous)
            targets.append(current)
            weights.append(conv + nulls)
            previous = current
        to_conv[previous] += conv
        to_null[previous] += nulls
        to_value[previous] += value

    n = len(states)
    counts = sparse.csr_array((weights, (sources, targets)), shape=(n, n))  # duplicates are summed
    conv = np.zeros(n)
    conv[list(to_conv)] = list(to_conv.values())
    null = np.zeros(n)
    null[list(to_null)] = list(to_null.values())
    # Removing a channel sends arrivals into its states to null: a row's total outflow is unchanged.
    totals = counts.sum(axis=1) + conv + null
    scale = np.divide(1.0, totals, out=np.zeros(n), where=totals > 0)
    moves = sparse.diags_array(scale) @ counts
    reward = conv if weight == "conversions" else np.zeros(n)
    if weight == "value":
        reward[list(to_value)] = list(to_value.values())
    finish = reward * scale
    keys = sorted(states, key=states.get)
    identity = sparse.eye_array(n, format="csc")

    def p_conversion(removed: str | None) -> float:
        keep = np.array([removed is None or removed not in key for key in keys], dtype=float)
        kept = sparse.diags_array(keep)
        q = (kept @ moves @ kept).tocsc()
        return float(spsolve(identity - q, finish * keep)[0])

    base = p_conversion(None)
    effects = np.array([1.0 - p_conversion(c) / base if base > 0 else 0.0 for c in channels])
    return _result(channels, np.clip(effects, 0.0, None), frame["conversions"].sum(), frame["value"].sum())


def shapley_attribution(paths: pd.DataFrame) -> pd.DataFrame:
    """Credit channels by their Shapley value in the conversions game.

    The worth of a coalition S of channels is the conversions (and, separately, the value) of paths
    whose set of channels lies within S. Each channel gets its Shapley value, so credits add up to
    the total. Order and repetition inside a path do not matter here.
    """
    frame = _clean(paths)
    if frame.empty:
        return _result([], np.zeros(0), 0.0, 0.0)
    sets = [frozenset(p.split(SEP)) for p in frame["path"]]
    channels = sorted(set().union(*sets))
    n = len(channels)
    if n > MAX_SHAPLEY_CHANNELS:
        raise ValueError(f"{n} channels; Shapley here handles at most {MAX_SHAPLEY_CHANNELS}")
    bit = {c: 1 << i for i, c in enumerate(channels)}
    size = 1 << n
    conv_worth, value_worth = np.zeros(size), np.zeros(size)
    for members, conv, value in zip(sets, frame["conversions"], frame["value"], strict=True):
        mask = sum(bit[c] for c in members)
        conv_worth[mask] += conv
        value_worth[mask] += value
    for i in range(n):  # worth(S) = sum over subsets T of S (zeta transform over the bits)
        has = (np.arange(size) >> i) & 1 == 1
        conv_worth[has] += conv_worth[np.arange(size)[has] ^ (1 << i)]
        value_worth[has] += value_worth[np.arange(size)[has] ^ (1 << i)]
    popcount = np.array([bin(m).count("1") for m in range(size)])
    weight = np.array([factorial(s) * factorial(n - s - 1) / factorial(n) if s < n else 0.0 for s in popcount])
    conv_phi, value_phi = np.zeros(n), np.zeros(n)
    masks = np.arange(size)
    for i in range(n):
        without = masks[(masks >> i) & 1 == 0]
        conv_phi[i] = (weight[without] * (conv_worth[without | (1 << i)] - conv_worth[without])).sum()
        value_phi[i] = (weight[without] * (value_worth[without | (1 << i)] - value_worth[without])).sum()
    total = conv_phi.sum()
    share = conv_phi / total if total > 0 else np.zeros(n)
    return pd.DataFrame({"channel": channels, "conversions": conv_phi, "value": value_phi,
                         "share": share}).sort_values("channel", ignore_index=True)

