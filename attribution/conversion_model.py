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


@dataclass(frozen=True)
class Reach:
    """What the stats reports say of everyone, converting or not: the fit's population totals."""
    exposure: pd.DataFrame  # channel, visitors
    visitors: float
    clicks: float
    seen_share: float  # share of all conversions whose journey a site-wide tracker shows whole


def reach(exposure: pd.DataFrame, conversions: int, seen_whole: int) -> Reach:
    """From int_exposure__channels (channel, visitors, all_visitors, all_clicks) and the conversion counts."""
    return Reach(exposure[["channel", "visitors"]],
                 visitors=float(exposure["all_visitors"].max()) if len(exposure) else 0.0,
                 clicks=float(exposure["all_clicks"].max()) if len(exposure) else 0.0,
                 seen_share=seen_whole / conversions if conversions else 0.0)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _matrix(journeys: pd.DataFrame, channels: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(conversion ids, conversions x channels touch counts) from long rows `conversion_id, channel, touches`."""
    wide = _pivot(journeys, "touches", channels)
    return wide.index.to_numpy(), wide.to_numpy(dtype=float)


def _wide(rows: pd.DataFrame, value: str, channels: list[str], ids: np.ndarray) -> np.ndarray:
    """Long rows `conversion_id, channel, <value>` as an ids x channels matrix (0 where a pair has no row)."""
    return _pivot(rows, value, channels).reindex(index=ids, fill_value=0.0).to_numpy(dtype=float)


def _pivot(rows: pd.DataFrame, value: str, channels: list[str]) -> pd.DataFrame:
    wide = rows.pivot_table(index="conversion_id", columns="channel", values=value, aggfunc="sum", fill_value=0.0)
    return wide.reindex(columns=channels, fill_value=0.0)


def reached(exposure: pd.DataFrame) -> tuple[list[str], np.ndarray]:
    """The channels the stats reports saw reach anyone (`exposure`: channel, visitors), and their visitors: the
    channels the model is fitted on."""
    channels = sorted(exposure.loc[exposure["visitors"] > 0, "channel"])
    return channels, exposure.set_index("channel").loc[channels, "visitors"].to_numpy(dtype=float)


def fit(converters: pd.DataFrame, exposure: pd.DataFrame, visitors: float, clicks: float,
        seen_share: float, weights: pd.Series | None = None) -> ConversionModel:
    """Fit the conversion model.

    converters: `conversion_id, channel, touches`: the touches ClickMagick saw of each conversion it reported.
    exposure: `channel, visitors`: distinct visitors ClickMagick saw on each channel (its stats reports).
    visitors, clicks: distinct visitors and clicks ClickMagick saw overall, over the same period.
    seen_share: the share of all conversions that `converters` holds (q above).
    weights: how many conversions each `conversion_id` stands for (default 1 each): a row may be a pattern of
    identical journeys, or a bootstrap draw (attribution.intervals).
    """
    channels, reach = reached(exposure)
    ids, counts = _matrix(converters, channels)
    many = np.ones(len(ids)) if weights is None else weights.reindex(ids, fill_value=0.0).to_numpy(dtype=float)
    return fit_counts(counts, many, channels, reach, visitors, clicks, seen_share)


def fit_counts(counts: np.ndarray, many: np.ndarray, channels: list[str], reach: np.ndarray, visitors: float,
               clicks: float, seen_share: float, near: ConversionModel | None = None) -> ConversionModel:
    """`fit` over a matrix: rows of touch counts per channel (`channels`, each reaching `reach` visitors), each
    row standing for `many` conversions; the search starts from `near` when given (a fit of similar data)."""
    if not 0 < seen_share <= 1:
        raise ValueError(f"seen_share must be in (0, 1], not {seen_share}")
    if visitors <= 0 or clicks <= 0:
        raise ValueError("the stats reports show no visitors or clicks")
    kept = (counts.sum(axis=1) > 0) & (many > 0)
    counts, many = counts[kept], many[kept]
    if many.sum() < len(channels) + 2:
        raise ValueError(f"{many.sum():g} converting journeys are too few to fit {len(channels) + 2} parameters")
    presence = (counts > 0).astype(float)
    touches = counts.sum(axis=1)
    k = len(channels)
    targets = np.concatenate([[visitors], reach, [clicks]])

    def inverse(theta: np.ndarray) -> np.ndarray:  # each row's Horvitz-Thompson weight, times what it stands for
        return many / (seen_share * _sigmoid(theta[0] + presence @ theta[1 : k + 1] + theta[k + 1] * touches))

    features = np.column_stack([np.ones(len(presence)), presence, touches])  # rows: [1, presence, touches]

    def gaps(theta: np.ndarray) -> np.ndarray:
        return (features.T @ inverse(theta) - targets) / targets

    def jacobian(theta: np.ndarray) -> np.ndarray:
        # d inverse_i / d theta_j = -inverse_i (1 - p_i) features_ij, p_i the row's conversion probability
        w = inverse(theta)
        p = _sigmoid(features @ theta)
        return -(features.T * (w * (1 - p))) @ features / targets[:, None]

    # Start where nobody converts because of a channel: the overall rate.
    rate = min(0.99, many.sum() / seen_share / visitors)
    start = np.concatenate([[np.log(rate / (1 - rate))], np.zeros(k), [0.0]]) if near is None else np.clip(
        np.concatenate([[near.intercept], [near.lifts.get(c, 0.0) for c in channels], [near.touch_lift]]),
        -MAX_LIFT, MAX_LIFT)
    bounds = (np.full(k + 2, -MAX_LIFT), np.full(k + 2, MAX_LIFT))
    solution = least_squares(gaps, start, jac=jacobian, bounds=bounds, x_scale=1.0)
    worst = float(np.abs(gaps(solution.x)).max())
    if worst > 0.01:
        log.warning("conversion model: weighted converters match the stats reports only within %.1f%%", worst * 100)
    theta = solution.x
    return ConversionModel(float(theta[0]), dict(zip(channels, map(float, theta[1 : k + 1]), strict=True)),
                           float(theta[k + 1]), float(inverse(theta).sum()))


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
    return _long(ids, channels, shapley_matrix(model, counts, channels))


@dataclass(frozen=True)
class Coalitions:
    """The rows of a touch-count matrix with `m` channels present (`rows`), each row's present channels
    left-aligned (`cols`: rows x m), and what the Shapley values of m players need: every coalition's members
    (`member`: 2^m x m), the weight of a coalition of each size without the player, and the coalitions' sizes."""
    rows: np.ndarray
    cols: np.ndarray
    member: np.ndarray
    weight: np.ndarray
    size: np.ndarray


def coalitions(counts: np.ndarray) -> list[Coalitions]:
    """The rows of `counts` by how many channels they show: what `shapley_matrix` computes for any model over the
    same rows, worked out once (a bootstrap credits the same rows under 100 refitted models)."""
    present = counts > 0
    sizes = present.sum(axis=1)
    found = []
    for m in np.unique(sizes[sizes > 0]):
        rows = np.flatnonzero(sizes == m)
        cols = np.argsort(~present[rows], axis=1, kind="stable")[:, :m]
        member = ((np.arange(1 << m)[:, None] >> np.arange(m)) & 1).astype(float)  # coalitions x m
        weight = np.array([factorial(s) * factorial(m - s - 1) / factorial(m) for s in range(m)])
        found.append(Coalitions(rows, cols, member, weight, member.sum(axis=1).astype(int)))
    return found


def shapley_matrix(model: ConversionModel, counts: np.ndarray, channels: list[str],
                   layout: list[Coalitions] | None = None) -> np.ndarray:
    """`shapley_credit` over a matrix of touch counts (rows: conversions, columns: `channels`); rows sum to 1
    (a row without touches to 0). `layout`: `coalitions(counts)`, when the caller keeps it."""
    lifts = np.array([model.lifts.get(c, 0.0) for c in channels])
    known = np.array([c in model.lifts for c in channels])
    credit = np.zeros_like(counts, dtype=float)
    for group in coalitions(counts) if layout is None else layout:
        rows, cols, member, m = group.rows, group.cols, group.member, group.cols.shape[1]
        lift = lifts[cols]
        touch = counts[rows[:, None], cols]
        p = _sigmoid(model.intercept + lift @ member.T + model.touch_lift * (touch @ member.T))
        masks = np.arange(1 << m)
        for j in range(m):
            without = masks[(masks >> j) & 1 == 0]
            phi = (p[:, without | (1 << j)] - p[:, without]) @ group.weight[group.size[without]]
            credit[rows, cols[:, j]] = np.clip(phi, 0.0, None) * known[cols[:, j]]
    return normalised(credit, counts)


def normalised(credit: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Each row's credit as shares of its total; a row with none split by its touch counts (a row without
    touches stays 0)."""
    total = credit.sum(axis=1, keepdims=True)
    touches = counts.sum(axis=1, keepdims=True)
    by_touches = np.divide(counts, touches, out=np.zeros_like(credit, dtype=float), where=touches > 0)
    return np.where(total > 0, credit / np.where(total > 0, total, 1.0), by_touches)


def _long(ids: np.ndarray, channels: list[str], credit: np.ndarray) -> pd.DataFrame:
    rows, cols = np.nonzero(credit > 0)
    return pd.DataFrame({"conversion_id": ids[rows], "channel": np.array(channels, dtype=object)[cols],
                         "credit": credit[rows, cols]})


def expected_credit(model: ConversionModel, whole_credit: pd.DataFrame, whole_seen_by_network: pd.DataFrame,
                    partial: pd.DataFrame, weights: pd.Series | None = None) -> pd.DataFrame:
    """Credit for conversions seen in part (`partial`: `conversion_id, channel, touches`, what the network
    showed): the mean credit split of the conversions seen whole (`whole_credit`: `conversion_id, channel,
    credit`) whose touches the network saw on exactly the same channels (`whole_seen_by_network`:
    `conversion_id, channel`). A visible set matched by fewer than MIN_MATCHES journeys seen whole is credited
    from its own touches (shapley_credit). `weights`: how many conversions each whole `conversion_id` stands
    for (default 1 each), as in `fit`."""
    whole_ids = whole_credit["conversion_id"].drop_duplicates().to_numpy()
    channels = sorted(set(whole_credit["channel"]) | set(partial["channel"]) | set(whole_seen_by_network["channel"]))
    credit = _wide(whole_credit, "credit", channels, whole_ids)
    visible = _wide(whole_seen_by_network.assign(seen=1.0), "seen", channels, whole_ids) > 0
    many = np.ones(len(whole_ids)) if weights is None else weights.reindex(whole_ids, fill_value=0.0).to_numpy(float)
    ids, counts = _matrix(partial, channels) if len(partial) else (np.array([], dtype=object),
                                                                    np.zeros((0, len(channels))))
    return _long(ids, channels, expected_matrix(model, credit, visible, many, counts, channels))


@dataclass(frozen=True)
class VisibleSets:
    """The conversions seen whole grouped by the channels the network saw on them (`codes`: each whole row's
    group, of `groups`), and each partial conversion's group by the channels it shows (`found`; -1: none)."""
    codes: np.ndarray
    groups: int
    found: np.ndarray


def group_sums(codes: np.ndarray, values: np.ndarray, groups: int) -> np.ndarray:
    """groups x columns: the sum of `values`' rows in each group (`codes`), a column at a time (numpy's
    `add.at` is ~10x slower)."""
    sums = np.zeros((groups, values.shape[1]))
    for j in range(values.shape[1]):
        sums[:, j] = np.bincount(codes, weights=values[:, j], minlength=groups)
    return sums


def visible_sets(visible: np.ndarray, partial: np.ndarray) -> VisibleSets:
    """What `expected_matrix` matches whatever the model and weights, worked out once (see `coalitions`)."""
    keys, codes = np.unique(visible, axis=0, return_inverse=True)
    lookup = {row.tobytes(): i for i, row in enumerate(keys)}
    found = np.array([lookup.get(row.tobytes(), -1) for row in partial > 0], dtype=int)
    return VisibleSets(codes.reshape(-1), len(keys), found)


def expected_matrix(model: ConversionModel, credit: np.ndarray, visible: np.ndarray, many: np.ndarray,
                    partial: np.ndarray, channels: list[str], sets: VisibleSets | None = None) -> np.ndarray:
    """`expected_credit` over matrices (columns: `channels`): the whole conversions' credit, the channels the
    network saw on each, how many conversions each row stands for; the partial conversions' touch counts.
    `sets`: `visible_sets(visible, partial)`, when the caller keeps it."""
    sets = visible_sets(visible, partial) if sets is None else sets
    codes, found = sets.codes, sets.found
    sums = group_sums(codes, credit * many[:, None], sets.groups)
    mass = np.bincount(codes, weights=many, minlength=sets.groups)
    matched = found >= 0
    matched[matched] = mass[found[matched]] >= MIN_MATCHES
    out = np.zeros((len(partial), len(channels)))
    out[matched] = sums[found[matched]] / mass[found[matched], None]
    out[~matched] = shapley_matrix(model, partial[~matched], channels)
    return out
