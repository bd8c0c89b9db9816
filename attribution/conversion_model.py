"""Shapley values of a fitted conversion probability: the default data-driven model.

A marketer wants each channel's incremental conversions: how many fewer there would be without it. We fit
a model of the chance that a visitor converts, logistic in which channels reached them and how often,

    p(x) = 1 / (1 + exp(-(b0 + sum_c b_c [x_c > 0] + t * sum_c x_c)))       x_c: the visitor's touches of c

and credit each conversion to its channels by their Shapley values in the game v(S) = p(touches of S only)
(Lundberg & Lee 2017 explain predictions this way; Shapley 1953). Each conversion's credit is its channels'
Shapley values normalised to sum to one (negative values count as none).

The difficulty is the data: we see every converting journey, but not the visitors who did not convert; only
totals of them. So the model is fit by weighting (Horvitz & Thompson 1952): a visitor with features x shows
up among the converters we see with probability q * p(x), where q is the share of conversions whose vendor
shows their journey (ClickMagick), so weighting each seen converter by 1 / (q p(x)) estimates sums over all
visitors. b0, b and t solve the estimating equations that match those weighted sums to the totals
ClickMagick's stats reports give (unique visitors overall and per channel, clicks overall): a method of
moments with population totals standing in for the non-converting visitors we cannot list (fitting a model
with summary data from the population is the idea of Chatterjee et al. 2016, JASA 111:107-117, who use a
constrained likelihood). Exactly identified: as many equations as parameters; no tuning.

A conversion that only an ad network reported (ClickMagick did not) is seen in part: the network shows the
touches on its own links, not the rest of the journey. Crediting those few touches with all of it would hand
the network's channels what the unseen ones earned. Such a conversion gets the average credit split of the
conversions seen whole on which the network saw the same channels: the visible channels' part lands on its
touches, the rest is credit inferred for channels it did not show.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from math import factorial

import numpy as np
import pandas as pd
from scipy.optimize import least_squares

log = logging.getLogger("attribution")

MIN_MATCHES = 10  # journeys seen whole needed to stand for one seen in part; fewer: credit what is visible
MAX_LIFT = 8.0  # bounds on the log-odds terms keep a channel that never converts from running off to -inf


@dataclass(frozen=True)
class ConversionModel:
    intercept: float
    lifts: dict[str, float]  # per channel, on the log-odds of converting when the channel is present
    touch_lift: float  # per touch
    fitted_visitors: float  # what the weighted converters add up to; the stats reports' total when fit well


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _matrix(journeys: pd.DataFrame, channels: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(conversion ids, conversions x channels touch counts) from long rows `conversion_id, channel, touches`."""
    wide = journeys.pivot_table(index="conversion_id", columns="channel", values="touches", aggfunc="sum",
                                fill_value=0.0)
    wide = wide.reindex(columns=channels, fill_value=0.0)
    return wide.index.to_numpy(), wide.to_numpy(dtype=float)


def fit(converters: pd.DataFrame, exposure: pd.DataFrame, visitors: float, clicks: float,
        seen_share: float) -> ConversionModel:
    """Fit the conversion model.

    converters: `conversion_id, channel, touches`: the touches ClickMagick saw of each conversion it reported.
    exposure: `channel, visitors`: distinct visitors ClickMagick saw on each channel (its stats reports).
    visitors, clicks: distinct visitors and clicks ClickMagick saw overall, over the same period.
    seen_share: the share of all conversions that `converters` holds (q above).
    """
    if not 0 < seen_share <= 1:
        raise ValueError(f"seen_share must be in (0, 1], not {seen_share}")
    if visitors <= 0 or clicks <= 0:
        raise ValueError("the stats reports show no visitors or clicks")
    channels = sorted(exposure.loc[exposure["visitors"] > 0, "channel"])
    reach = exposure.set_index("channel").loc[channels, "visitors"].to_numpy(dtype=float)
    _, counts = _matrix(converters, channels)
    counts = counts[counts.sum(axis=1) > 0]
    if len(counts) < len(channels) + 2:
        raise ValueError(f"{len(counts)} converting journeys are too few to fit {len(channels) + 2} parameters")
    presence = (counts > 0).astype(float)
    touches = counts.sum(axis=1)
    k = len(channels)
    targets = np.concatenate([[visitors], reach, [clicks]])

    def weights(theta: np.ndarray) -> np.ndarray:
        return 1.0 / (seen_share * _sigmoid(theta[0] + presence @ theta[1 : k + 1] + theta[k + 1] * touches))

    def gaps(theta: np.ndarray) -> np.ndarray:
        w = weights(theta)
        return (np.concatenate([[w.sum()], presence.T @ w, [touches @ w]]) - targets) / targets

    # Start where nobody converts because of a channel: the overall rate.
    rate = min(0.99, len(counts) / seen_share / visitors)
    start = np.concatenate([[np.log(rate / (1 - rate))], np.zeros(k), [0.0]])
    bounds = (np.full(k + 2, -MAX_LIFT), np.full(k + 2, MAX_LIFT))
    solution = least_squares(gaps, start, bounds=bounds, x_scale=1.0)
    worst = float(np.abs(gaps(solution.x)).max())
    if worst > 0.01:
        log.warning("conversion model: weighted converters match the stats reports only within %.1f%%", worst * 100)
    theta = solution.x
    return ConversionModel(float(theta[0]), dict(zip(channels, map(float, theta[1 : k + 1]), strict=True)),
                           float(theta[k + 1]), float(weights(theta).sum()))


def shapley_credit(model: ConversionModel, journeys: pd.DataFrame) -> pd.DataFrame:
    """Each conversion's credit per channel (`conversion_id, channel, credit`, summing to 1 per conversion):
    its channels' Shapley values in v(S) = p(S's presence, S's touches), negative values as none. A path whose
    values are all zero (or whose channels the model does not know) is split by touches."""
    journeys = journeys.loc[journeys["touches"] > 0]
    if journeys.empty:
        return pd.DataFrame({"conversion_id": journeys["conversion_id"], "channel": journeys["channel"],
                             "credit": pd.Series(dtype=float)})
    channels = sorted(set(journeys["channel"]))
    ids, counts = _matrix(journeys, channels)
    lifts = np.array([model.lifts.get(c, 0.0) for c in channels])
    known = np.array([c in model.lifts for c in channels])
    credit = np.zeros_like(counts)
    present = counts > 0
    sizes = present.sum(axis=1)
    for m in np.unique(sizes):
        rows = np.flatnonzero(sizes == m)
        # Each row's present channels, left-aligned: m columns per row.
        cols = np.argsort(~present[rows], axis=1, kind="stable")[:, :m]
        lift = lifts[cols]
        touch = counts[rows[:, None], cols]
        member = ((np.arange(1 << m)[:, None] >> np.arange(m)) & 1).astype(float)  # coalitions x m
        p = _sigmoid(model.intercept + lift @ member.T + model.touch_lift * (touch @ member.T))
        weight = np.array([factorial(s) * factorial(m - s - 1) / factorial(m) for s in range(m)])
        size = member.sum(axis=1).astype(int)
        masks = np.arange(1 << m)
        for j in range(m):
            without = masks[(masks >> j) & 1 == 0]
            phi = (p[:, without | (1 << j)] - p[:, without]) @ weight[size[without]]
            credit[rows, cols[:, j]] = np.clip(phi, 0.0, None) * known[cols[:, j]]
    total = credit.sum(axis=1, keepdims=True)
    by_touches = counts / counts.sum(axis=1, keepdims=True)
    credit = np.where(total > 0, credit / np.where(total > 0, total, 1.0), by_touches)
    rows, cols = np.nonzero(credit > 0)
    return pd.DataFrame({"conversion_id": ids[rows], "channel": np.array(channels, dtype=object)[cols],
                         "credit": credit[rows, cols]})


def expected_credit(model: ConversionModel, whole_credit: pd.DataFrame, whole_seen_by_network: pd.DataFrame,
                    partial: pd.DataFrame) -> pd.DataFrame:
    """Credit for conversions seen in part (`partial`: `conversion_id, channel, touches`, what the network
    showed): the mean credit split of the conversions seen whole (`whole_credit`: `conversion_id, channel,
    credit`) whose touches the network saw on exactly the same channels (`whole_seen_by_network`:
    `conversion_id, channel`). A visible set matched by fewer than MIN_MATCHES journeys seen whole is credited
    from its own touches (shapley_credit)."""
    def keys(rows: pd.DataFrame) -> pd.Series:
        return rows.groupby("conversion_id")["channel"].agg(lambda c: "|".join(sorted(set(c))))

    whole_ids = whole_credit["conversion_id"].drop_duplicates()
    whole_keys = keys(whole_seen_by_network).reindex(whole_ids, fill_value="").rename("visible")
    counts = whole_keys.value_counts()
    mean = (whole_credit.join(whole_keys, on="conversion_id").groupby(["visible", "channel"])["credit"].sum()
            .div(counts, level="visible").rename("credit").reset_index())
    partial_keys = keys(partial).rename("visible").reset_index()
    matched = partial_keys["visible"].map(counts).fillna(0) >= MIN_MATCHES
    inferred = partial_keys.loc[matched].merge(mean, on="visible")[["conversion_id", "channel", "credit"]]
    own = shapley_credit(model, partial.loc[partial["conversion_id"].isin(partial_keys.loc[~matched, "conversion_id"])])
    return pd.concat([inferred, own], ignore_index=True)
