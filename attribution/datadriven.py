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

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse.linalg import spsolve

SEP = " > "
DENSE_STATES = 300  # a chain of up to this many states (order 1: the channels and start) is solved densely


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
    is solved exactly with a solve of (I - Q) x = r, for the full chain and for the chain with
    each channel removed (every state holding it leads to null). Channel c gets conversions * RE_c /
    sum(RE) and value * RE_c / sum(RE), where RE_c = 1 - P(conversion without c) / P(conversion).
    With `weight="value"` the removal effect is that of the expected value instead (each path's revenue
    collected where it converts), as ChannelAttribution's `var_value`: a channel on the paths that bring the
    revenue weighs more than one on paths that convert as often for less.
    """
    _check(order, weight)  # before the paths
    frame = _clean(paths)
    if frame.empty:
        return _result([], np.zeros(0), 0.0, 0.0)
    chain = MarkovChain(list(frame["path"]), order, weight)
    effects = chain.weights(*(frame[c].to_numpy() for c in ("conversions", "value", "nulls")))
    return _result(chain.channels, effects, frame["conversions"].sum(), frame["value"].sum())


def _check(order: object, weight: str) -> None:
    if weight not in ("conversions", "value"):
        raise ValueError(f"weight must be 'conversions' or 'value', not {weight!r}")
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)) or order < 1:
        raise ValueError(f"order must be a whole number of at least 1, not {order!r}")


class MarkovChain:
    """The structure of the chain over a list of distinct paths (its states, which transitions each path walks,
    where each ends), built once; `weights` solves it for any counts of those paths (a bootstrap draw reuses the
    structure, attribution.intervals)."""

    def __init__(self, paths: list[str], order: int = 1, weight: str = "conversions"):
        _check(order, weight)
        self.weight = weight
        sequences = [p.split(SEP) for p in paths]
        self.channels = sorted({c for seq in sequences for c in seq})
        start: tuple[str, ...] = ()  # the only state without a channel
        states: dict[tuple[str, ...], int] = {start: 0}
        edges: dict[tuple[int, int], int] = {}
        rows, cols, ends = [], [], []
        for p, seq in enumerate(sequences):
            previous = 0
            for i in range(len(seq)):
                current = states.setdefault(tuple(seq[max(0, i - order + 1) : i + 1]), len(states))
                rows.append(edges.setdefault((previous, current), len(edges)))
                cols.append(p)
                previous = current
            ends.append(previous)
        self.n = len(states)
        # edges x paths: how often each path walks each transition (a repeated transition counts each time)
        self.walks = sparse.csr_array((np.ones(len(rows)), (rows, cols)), shape=(len(edges), len(paths)))
        self.sources = np.array([a for a, _ in edges], dtype=int)
        self.targets = np.array([b for _, b in edges], dtype=int)
        self.ends = np.array(ends, dtype=int)
        keys = sorted(states, key=states.get)
        self.kept = {c: np.array([c not in key for key in keys], dtype=float) for c in self.channels}

    def weights(self, conversions: np.ndarray, value: np.ndarray, nulls: np.ndarray) -> np.ndarray:
        """Each channel's removal effect (clipped at 0) with the paths followed `conversions` + `nulls` times."""
        n = self.n
        through = self.walks @ (np.asarray(conversions, float) + np.asarray(nulls, float))
        counts = sparse.csr_array((through, (self.sources, self.targets)), shape=(n, n))
        conv = np.bincount(self.ends, weights=conversions, minlength=n)
        null = np.bincount(self.ends, weights=nulls, minlength=n)
        # Removing a channel sends arrivals into its states to null: a row's total outflow is unchanged.
        totals = counts.sum(axis=1) + conv + null
        scale = np.divide(1.0, totals, out=np.zeros(n), where=totals > 0)
        moves = sparse.diags_array(scale) @ counts
        reward = conv if self.weight == "conversions" else np.bincount(self.ends, weights=value, minlength=n)
        finish = reward * scale
        dense = moves.toarray() if n <= DENSE_STATES else None
        identity = sparse.eye_array(n, format="csc")

        def p_conversion(keep: np.ndarray) -> float:
            if dense is not None:  # a small chain: a dense solve costs less than building sparse matrices
                return float(np.linalg.solve(np.eye(n) - keep[:, None] * dense * keep[None, :], finish * keep)[0])
            kept = sparse.diags_array(keep)
            q = (kept @ moves @ kept).tocsc()
            return float(spsolve(identity - q, finish * keep)[0])

        base = p_conversion(np.ones(n))
        effects = np.array([1.0 - p_conversion(self.kept[c]) / base if base > 0 else 0.0 for c in self.channels])
        return np.clip(effects, 0.0, None)


def shapley_attribution(paths: pd.DataFrame) -> pd.DataFrame:
    """Credit channels by their Shapley value in the conversions game.

    The worth of a coalition S of channels is the conversions (and, separately, the value) of paths
    whose set of channels lies within S. Each channel gets its Shapley value, so credits add up to
    the total. Order and repetition inside a path do not matter here. The game is a sum of unanimity games,
    one per path (worth its conversions once S holds the path's channels), whose Shapley value splits that
    worth equally among the path's channels: so each channel gets, of every path it is on, the conversions
    divided by the path's number of distinct channels (exact, for any number of channels).
    """
    frame = _clean(paths)
    if frame.empty:
        return _result([], np.zeros(0), 0.0, 0.0)
    sets = ChannelSets(list(frame["path"]))
    conv_phi = sets.weights(frame["conversions"].to_numpy(), None, None)
    value_phi = sets.weights(frame["value"].to_numpy(), None, None)
    total = conv_phi.sum()
    share = conv_phi / total if total > 0 else np.zeros(len(sets.channels))
    return pd.DataFrame({"channel": sets.channels, "conversions": conv_phi, "value": value_phi,
                         "share": share}).sort_values("channel", ignore_index=True)


class ChannelSets:
    """The distinct channels of each of a list of paths, as an equal split: `weights` gives each channel's
    Shapley value in the conversions game for any counts of those paths."""

    def __init__(self, paths: list[str]):
        sets = [sorted(set(p.split(SEP))) for p in paths]
        self.channels = sorted({c for members in sets for c in members})
        at = {c: i for i, c in enumerate(self.channels)}
        rows = [p for p, members in enumerate(sets) for _ in members]
        cols = [at[c] for members in sets for c in members]
        split = [1.0 / len(members) for members in sets for _ in members]
        self.split = sparse.csr_array((split, (rows, cols)), shape=(len(sets), len(self.channels)))

    def weights(self, conversions: np.ndarray, value: np.ndarray | None, nulls: np.ndarray | None) -> np.ndarray:
        return self.split.T @ np.asarray(conversions, float)
