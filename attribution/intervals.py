"""How sure a data-driven model's channel shares are: 90% bootstrap intervals (marts.attribution_shares).

A share is the channel's part of a model's credited conversions in a currency. The conversions we saw are one
sample of the conversions the same marketing could have brought, so we redraw them: each draw weighs every
conversion (and every non-converting journey) by an independent Poisson(1) count, the Poisson bootstrap
(Hanley & MacGibbon 2006; Chamandy et al. 2012), which a summary of identical rows draws at once: n identical
conversions weigh Poisson(n). The model is then fitted again to the draw, every conversion credited by the
refitted model, and the shares computed; the interval is the 5th to the 95th percentile of the draws. Draws are
seeded, so a build is reproducible.

Everything runs over summaries, never over one row per conversion: the conversion model (`shapley`) over the
distinct journeys (which channels, how many touches, seen whole or in part, currency), the path models
(`markov`, `shapley_simplified`) over the path summary per currency. A draw's cost follows the number of
distinct journeys, not the history.

What the intervals leave out: the stats reports' visitor totals and the share of conversions a tracker sees
whole are held at their observed values (both count far more than the conversions), and the model's form is
taken as given: a world unlike the model moves the shares by more than the intervals say.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np
import pandas as pd

from attribution import conversion_model
from attribution.datadriven import SEP, ChannelSets, MarkovChain

DRAWS = 100
LEVEL = 0.90
SEED = 20261202

class PathModel(Protocol):
    """A model's structure over distinct paths (attribution.datadriven): its channels, and their weights for
    counts of those paths."""
    channels: list[str]

    def weights(self, conversions: np.ndarray, value: np.ndarray, nulls: np.ndarray) -> np.ndarray: ...


class Sample(Protocol):
    """What a model's intervals redraw. `many`: how many conversions (or non-converting journeys) each row of
    the sample stands for; `credit(weight)`: each credited row's credit per channel (`channels`) when the rows
    stand for `weight` instead, refitted (`weight == many`: the model as built), None when too thin to fit;
    `currency`: each credited row's currency."""
    many: np.ndarray
    channels: list[str]
    currency: np.ndarray

    def credit(self, weight: np.ndarray) -> np.ndarray | None: ...


ALL_CURRENCIES = "all"  # the rows of every currency together (lower case: never an ISO 4217 code)


def intervals(sample: Sample, draws: int = DRAWS, seed: int = SEED, level: float = LEVEL) -> pd.DataFrame:
    """`currency, channel, share_low, share_high`: the percentile interval of the shares over `draws` Poisson
    bootstrap draws (a draw too thin to fit the model is skipped)."""
    rng = np.random.default_rng(seed)
    codes, currencies = pd.factorize(pd.Series(sample.currency, dtype=object), use_na_sentinel=False)
    found = []
    for _ in range(draws):
        credit = sample.credit(rng.poisson(sample.many).astype(float))
        if credit is not None:
            found.append(_shares(credit, codes, len(currencies)))
    if not found:
        return pd.DataFrame({"currency": pd.Series(dtype=object), "channel": pd.Series(dtype=object),
                             "share_low": pd.Series(dtype=float), "share_high": pd.Series(dtype=float)})
    tail = (1 - level) / 2
    low, high = np.nanquantile(np.stack(found), [tail, 1 - tail], axis=0)
    return _long([*currencies, ALL_CURRENCIES], sample.channels, share_low=low, share_high=high)


def shares_of(credit: np.ndarray, currency: np.ndarray, channels: list[str]) -> pd.DataFrame:
    """Credited conversions (rows x `channels`, each row in `currency`) -> `currency, channel, share` per
    currency and over every currency together (ALL_CURRENCIES)."""
    codes, currencies = pd.factorize(pd.Series(currency, dtype=object), use_na_sentinel=False)
    return _long([*currencies, ALL_CURRENCIES], channels, share=_shares(credit, codes, len(currencies)))


def as_built(sample: Sample) -> pd.DataFrame:
    """The shares when nothing is redrawn: those of the model as the build fits it."""
    credit = sample.credit(sample.many)
    return shares_of(credit if credit is not None else np.zeros((0, len(sample.channels))), sample.currency,
                     sample.channels)


def _shares(credit: np.ndarray, codes: np.ndarray, groups: int) -> np.ndarray:
    """(groups + 1) x channels: each currency's shares, then every currency's together; nan without credit."""
    sums = np.zeros((groups + 1, credit.shape[1]))
    sums[:groups] = conversion_model.group_sums(codes, credit, groups)
    sums[groups] = sums[:groups].sum(axis=0)
    totals = sums.sum(axis=1, keepdims=True)
    return np.divide(sums, totals, out=np.full_like(sums, np.nan), where=totals > 0)


def _long(currencies: list, channels: list[str], **values: np.ndarray) -> pd.DataFrame:
    grid = pd.MultiIndex.from_product([pd.Index(currencies, dtype=object), channels], names=["currency", "channel"])
    return pd.DataFrame({name: matrix.reshape(-1) for name, matrix in values.items()}, index=grid).reset_index()


class PathSample:
    """A model with one weight per channel fitted on the path summary (Markov, simplified Shapley).

    paths: `currency, path, conversions, value, nulls` (int_paths__by_currency): converting journeys per
    currency and path, non-converting journeys (currency null) per path; `many` holds the conversions of each
    row, then its non-converting journeys. The model's structure over the distinct paths is built once
    (`PATH_MODELS`); a draw only solves it for other counts."""

    def __init__(self, paths: pd.DataFrame, model: Callable[[list[str]], PathModel]):
        # in a fixed order: a draw's weights go to the same rows whatever order the warehouse returned them in
        paths = (paths.loc[paths["path"].fillna("").str.len() > 0]
                 .sort_values(["path", "currency"], na_position="first", kind="stable").reset_index(drop=True))
        self.paths = paths
        distinct, self.code = np.unique(paths["path"].to_numpy(dtype=str), return_inverse=True)
        self.model = model(list(distinct))
        self.channels = list(self.model.channels)
        at = {c: i for i, c in enumerate(self.channels)}
        self.touches = np.zeros((len(paths), len(self.channels)))
        for row, path in enumerate(paths["path"]):
            for channel in path.split(SEP):
                self.touches[row, at[channel]] += 1
        converting = paths["conversions"].to_numpy(dtype=float)
        # a drawn conversion brings its path's mean revenue (for a model weighing revenue)
        self.value_each = np.divide(paths["value"].to_numpy(dtype=float), converting, out=np.zeros(len(paths)),
                                    where=converting > 0)
        self.many = np.concatenate([converting, paths["nulls"].to_numpy(dtype=float)])
        # the rows with conversions (a conversion without a currency shares its row with the path's nulls)
        self.converting = converting > 0
        self.currency = paths["currency"].to_numpy(dtype=object)[self.converting]

    def credit(self, weight: np.ndarray) -> np.ndarray | None:
        if self.paths.empty:
            return None
        conversions, nulls = weight[: len(self.paths)], weight[len(self.paths) :]
        distinct = self.code.max() + 1

        def by_path(values: np.ndarray) -> np.ndarray:
            return np.bincount(self.code, weights=values, minlength=distinct)

        weights = self.model.weights(by_path(conversions), by_path(conversions * self.value_each), by_path(nulls))
        # as int_attribution__data_driven: a conversion's channels by their weights, else by touches
        credit = conversion_model.normalised((self.touches > 0) * weights, self.touches) * conversions[:, None]
        return credit[self.converting]


class ConversionModelSample:
    """The conversion model's Shapley credit (int_channel_weights__shapley), refitted to each draw.

    journeys: `conversion_id, currency, channel, touches, tracker_touches, network_touches, seen_whole`, one row
    per conversion and channel on its path (int_journeys__channel_touches with the conversion's currency), and
    optionally `conversions`: how many conversions the row's `conversion_id` stands for (a journey pattern of
    int_journey_patterns__counted; default one). Conversions with the same journey are one row of matrices,
    `many` conversions each."""

    KINDS = ("touches", "tracker_touches", "network_touches")

    def __init__(self, journeys: pd.DataFrame, reach: conversion_model.Reach):
        self.reach = reach
        self.channels = sorted(set(journeys["channel"]))
        self.fitted_channels, self.reached = conversion_model.reached(reach.exposure)
        self.near: conversion_model.ConversionModel | None = None  # where each draw's fit starts
        if journeys.empty:
            self.many, self.currency = np.zeros(0), np.zeros(0, dtype=object)
            return
        wide = journeys.pivot_table(index=["conversion_id", "currency", "seen_whole"], columns="channel",
                                    values=list(self.KINDS), aggfunc="sum", fill_value=0)
        wide = wide.reindex(columns=pd.MultiIndex.from_product([self.KINDS, self.channels]), fill_value=0)
        wide.columns = [f"{kind}|{channel}" for kind, channel in wide.columns]
        frame = wide.reset_index()
        frame["many"] = (frame["conversion_id"].map(journeys.groupby("conversion_id")["conversions"].first())
                         if "conversions" in journeys else 1)
        frame = frame.drop(columns="conversion_id")
        frame["currency"] = frame["currency"].fillna("")
        keys = [c for c in frame.columns if c != "many"]
        patterns = frame.groupby(keys, sort=True)["many"].sum().reset_index()
        matrix = {kind: patterns[[f"{kind}|{c}" for c in self.channels]].to_numpy(dtype=float) for kind in self.KINDS}
        self.currency = patterns["currency"].replace("", None).to_numpy(dtype=object)
        self.whole = patterns["seen_whole"].astype(bool).to_numpy()
        self.many = patterns["many"].to_numpy(dtype=float)
        self.touches = matrix["touches"]
        self.tracker = _columns(matrix["tracker_touches"][self.whole], self.channels, self.fitted_channels)
        self.visible = matrix["network_touches"][self.whole] > 0
        # what crediting these rows needs whatever the fit, worked out once for every draw
        self.layout = conversion_model.coalitions(self.touches[self.whole])
        self.sets = conversion_model.visible_sets(self.visible, self.touches[~self.whole])
        self.near = self._fit(self.many)  # the model as built

    def credit(self, weight: np.ndarray) -> np.ndarray | None:
        if not len(self.many):
            return None
        whole = self.whole
        fitted = self._fit(weight)
        if fitted is None:
            return None  # too thin to fit (the model itself would split by touches)
        credit = np.zeros_like(self.touches)
        credit[whole] = conversion_model.shapley_matrix(fitted, self.touches[whole], self.channels, self.layout)
        credit[~whole] = conversion_model.expected_matrix(fitted, credit[whole], self.visible, weight[whole],
                                                          self.touches[~whole], self.channels, self.sets)
        return credit * weight[:, None]

    def _fit(self, weight: np.ndarray) -> conversion_model.ConversionModel | None:
        reach = self.reach
        try:
            return conversion_model.fit_counts(self.tracker, weight[self.whole], self.fitted_channels, self.reached,
                                               reach.visitors, reach.clicks, reach.seen_share,
                                               near=self.near)
        except ValueError:
            return None


def _columns(matrix: np.ndarray, have: list[str], want: list[str]) -> np.ndarray:
    """`matrix` with columns `have` rearranged to `want` (a channel it lacks: zeros)."""
    out = np.zeros((len(matrix), len(want)))
    for i, channel in enumerate(want):
        if channel in have:
            out[:, i] = matrix[:, have.index(channel)]
    return out


PATH_MODELS: dict[str, Callable[[dict], Callable[[list[str]], PathModel]]] = {
    # a data-driven model with one weight per channel -> its structure over distinct paths, given the dbt vars
    "markov": lambda config: lambda paths: MarkovChain(
        paths, order=int(config.get("markov_order") or 1), weight=config.get("markov_weight") or "conversions"),
    "shapley_simplified": lambda config: ChannelSets,
}
