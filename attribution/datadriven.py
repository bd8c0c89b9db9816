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

from math import factorial

import numpy as np
import pandas as pd

SEP = " > "
MAX_SHAPLEY_CHANNELS = 16  # 2^16 coalitions; group channels more coarsely beyond that


def _clean(paths: pd.DataFrame) -> pd.DataFrame:
    missing = {"path", "conversions", "value", "nulls"} - set(paths.columns)
    if missing:
        raise ValueError(f"path summary lacks columns {sorted(missing)}")
    frame = paths.loc[paths["path"].fillna("").str.len() > 0, ["path", "conversions", "value", "nulls"]].copy()
    frame[["conversions", "value", "nulls"]] = frame[["conversions", "value", "nulls"]].fillna(0).astype(float)
    return frame


def _result(channels: list[str], weights: np.ndarray, conversions: float, value: float) -> pd.DataFrame:
    total = weights.sum()
    share = weights / total if total > 0 else np.zeros(len(channels))
    return pd.DataFrame({"channel": channels, "conversions": share * conversions, "value": share * value,
                         "share": share}).sort_values("channel", ignore_index=True)


def markov_attribution(paths: pd.DataFrame, order: int = 1) -> pd.DataFrame:
    """Credit channels by their removal effect in an absorbing Markov chain of order `order`.

    States are the last `order` channels seen (plus start, conversion and null). The probability of
    reaching conversion from start is solved exactly from the fundamental matrix, (I - Q) x = r,
    for the full chain and for the chain with each channel removed (every state holding it leads to
    null). Channel c gets conversions * RE_c / sum(RE) and value * RE_c / sum(RE), where
    RE_c = 1 - P(conversion without c) / P(conversion).
    """
    if order < 1:
        raise ValueError("order must be at least 1")
    frame = _clean(paths)
    if frame.empty:
        return _result([], np.zeros(0), 0.0, 0.0)
    sequences = [p.split(SEP) for p in frame["path"]]
    channels = sorted({c for seq in sequences for c in seq})
    states: dict[tuple[str, ...], int] = {("(start)",): 0}
    edges: dict[tuple[int, int | str], float] = {}

    def state(seq: list[str], i: int) -> int:
        key = tuple(seq[max(0, i - order + 1) : i + 1])
        return states.setdefault(key, len(states))

    for seq, conv, nulls in zip(sequences, frame["conversions"], frame["nulls"], strict=True):
        weight = conv + nulls
        previous = 0
        for i in range(len(seq)):
            current = state(seq, i)
            edges[(previous, current)] = edges.get((previous, current), 0.0) + weight
            previous = current
        edges[(previous, "conv")] = edges.get((previous, "conv"), 0.0) + conv
        edges[(previous, "null")] = edges.get((previous, "null"), 0.0) + nulls

    n = len(states)
    counts = np.zeros((n, n))
    to_conv, to_null = np.zeros(n), np.zeros(n)
    for (src, dst), weight in edges.items():
        if dst == "conv":
            to_conv[src] += weight
        elif dst == "null":
            to_null[src] += weight
        else:
            counts[src, dst] += weight
    keys = sorted(states, key=states.get)

    def p_conversion(removed: str | None) -> float:
        gone = np.array([removed is not None and removed in key for key in keys])
        q = counts.copy()
        r_null = to_null + q[:, gone].sum(axis=1)  # arrivals into a removed state are lost
        q[:, gone] = 0.0
        totals = q.sum(axis=1) + to_conv + r_null
        live = totals > 0
        q[live] /= totals[live, None]
        r = np.where(live, to_conv / np.where(live, totals, 1.0), 0.0)
        q[gone] = 0.0
        r[gone] = 0.0
        return float(np.linalg.solve(np.eye(n) - q, r)[0])

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

