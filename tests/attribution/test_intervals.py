"""Share intervals (attribution.intervals): a draw that redraws nothing is the model as built, and on a world whose
model is known the 90% intervals cover the true shares about as often as they say, narrowing with more data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from attribution import conversion_model, intervals
from attribution.datadriven import markov_attribution
from tests.attribution.test_conversion_model import CHANNELS, INTERCEPT, LIFTS, TOUCH_LIFT, synthetic

pytestmark = pytest.mark.fast
TRUE_MODEL = conversion_model.ConversionModel(INTERCEPT, dict(zip(CHANNELS, LIFTS, strict=True)), TOUCH_LIFT, 0.0)


def journeys_of(converters: pd.DataFrame, seed: int = 1) -> pd.DataFrame:
    """The synthetic converters as int_journeys__channel_touches rows, in two currencies, a fifth of them seen
    only in part (an ad network showing its channel `a`)."""
    rng = np.random.default_rng(seed)
    ids = converters["conversion_id"].unique()
    currency = dict(zip(ids, rng.choice(["EUR", "USD"], len(ids)), strict=True))
    partial = set(ids[rng.random(len(ids)) < 0.2])
    rows = converters.assign(currency=converters["conversion_id"].map(currency),
                             seen_whole=~converters["conversion_id"].isin(partial))
    rows["tracker_touches"] = np.where(rows["seen_whole"], rows["touches"], 0)
    rows["network_touches"] = np.where(rows["channel"] == "a", rows["touches"], 0)
    return rows.loc[rows["seen_whole"] | (rows["channel"] == "a")]


def shares_as_built(journeys: pd.DataFrame, reach: conversion_model.Reach) -> pd.Series:
    """int_channel_weights__shapley's credit (the DataFrame functions, conversion by conversion), as shares."""
    whole, partial = journeys.loc[journeys["seen_whole"]], journeys.loc[~journeys["seen_whole"]]
    fitted = conversion_model.fit(
        whole.loc[whole["tracker_touches"] > 0, ["conversion_id", "channel", "tracker_touches"]]
        .rename(columns={"tracker_touches": "touches"}), reach.exposure, reach.visitors, reach.clicks,
        reach.seen_share)
    columns = ["conversion_id", "channel", "touches"]
    whole_credit = conversion_model.shapley_credit(fitted, whole[columns])
    credit = pd.concat([whole_credit, conversion_model.expected_credit(
        fitted, whole_credit, whole.loc[whole["network_touches"] > 0, ["conversion_id", "channel"]],
        partial[columns])])
    credit["currency"] = credit["conversion_id"].map(journeys.groupby("conversion_id")["currency"].first())
    by = credit.groupby(["currency", "channel"])["credit"].sum()
    return by / by.groupby(level=0).transform("sum")


def patterns_of(journeys: pd.DataFrame) -> pd.DataFrame:
    """The journeys as int_journey_patterns__counted rows: one per distinct journey and currency, with
    `conversions`, keyed as the share intervals key them (pattern | currency)."""
    kinds = ["channel", "touches", "tracker_touches", "network_touches"]
    ordered = journeys.sort_values(["conversion_id", "channel"])
    keys = ordered.groupby("conversion_id").apply(
        lambda rows: f"{rows['seen_whole'].iloc[0]} " + " ".join(":".join(map(str, r)) for r in rows[kinds].to_numpy()),
        include_groups=False).rename("pattern")
    keyed = ordered.join(keys, on="conversion_id").rename(columns={"conversion_id": "conversion"})
    keyed["conversion_id"] = keyed["pattern"] + "|" + keyed["currency"]
    counts = keyed.groupby("conversion_id")["conversion"].nunique()
    first = keyed.drop_duplicates(["conversion_id", "channel"]).drop(columns=["pattern", "conversion"])
    return first.assign(conversions=first["conversion_id"].map(counts))


def test_a_sample_of_patterns_with_their_counts_is_the_sample_of_their_conversions():
    """The share intervals read journey patterns with conversion counts, never a row per conversion: the same
    matrices, the same intervals."""
    converters, exposure, visitors, clicks, conversions = synthetic(5_000, seen=1.0)
    journeys = journeys_of(converters)
    reach = conversion_model.Reach(exposure, float(visitors), float(clicks),
                                   journeys.loc[journeys["seen_whole"], "conversion_id"].nunique() / conversions)
    patterns = patterns_of(journeys)
    assert len(patterns) < len(journeys) / 2
    assert patterns.groupby("conversion_id")["conversions"].first().sum() == journeys["conversion_id"].nunique()
    by_conversion = intervals.ConversionModelSample(journeys, reach)
    by_pattern = intervals.ConversionModelSample(patterns, reach)
    assert np.array_equal(by_pattern.many, by_conversion.many)
    assert np.array_equal(by_pattern.touches, by_conversion.touches)
    assert intervals.intervals(by_pattern, draws=10).equals(intervals.intervals(by_conversion, draws=10))


def test_a_draw_that_redraws_nothing_is_the_conversion_model_as_built():
    converters, exposure, visitors, clicks, conversions = synthetic(20_000, seen=1.0)
    journeys = journeys_of(converters)
    reach = conversion_model.Reach(exposure, float(visitors), float(clicks),
                                   journeys.loc[journeys["seen_whole"], "conversion_id"].nunique() / conversions)
    sample = intervals.ConversionModelSample(journeys, reach)
    assert len(sample.many) < journeys["conversion_id"].nunique() / 2  # identical journeys drawn as one row
    got = intervals.as_built(sample).set_index(["currency", "channel"])["share"]
    expected = shares_as_built(journeys, reach)
    assert got.drop(intervals.ALL_CURRENCIES, level=0).loc[expected.index].to_numpy() == pytest.approx(
        expected.to_numpy(), rel=1e-9, abs=1e-12)
    assert got.loc[intervals.ALL_CURRENCIES].sum() == pytest.approx(1.0)


def test_a_draw_that_redraws_nothing_is_the_path_model_as_built():
    paths = pd.DataFrame({"currency": ["EUR", "USD", "EUR", None, None], "path": ["a > b", "a > b", "b", "a > b", "b"],
                          "conversions": [30, 10, 20, 0, 0], "value": [300.0, 90.0, 100.0, 0.0, 0.0],
                          "nulls": [0, 0, 0, 400, 900]})
    sample = intervals.PathSample(paths, intervals.PATH_MODELS["markov"]({}))
    got = intervals.as_built(sample).set_index(["currency", "channel"])["share"]
    weights = markov_attribution(paths.groupby("path", as_index=False)[["conversions", "value", "nulls"]].sum())
    w = weights.set_index("channel")["share"]
    split_ab = w["a"] / (w["a"] + w["b"])
    eur_a = 30 * split_ab / 50  # 30 conversions on a > b, 20 on b alone
    assert got["EUR", "a"] == pytest.approx(eur_a) and got["USD", "a"] == pytest.approx(split_ab)
    assert got[intervals.ALL_CURRENCIES, "a"] == pytest.approx(40 * split_ab / 60)


def test_conversions_without_a_currency_count_in_the_shares_of_every_currency():
    """int_paths__by_currency groups a conversion whose vendor sent no currency with the path's non-converting
    journeys (currency null for both); the sample took every null-currency row for non-converting journeys and
    left such conversions out of the shares."""
    paths = pd.DataFrame({"currency": ["EUR", "EUR", None, None], "path": ["a > b", "b", "a > b", "b"],
                          "conversions": [30, 20, 0, 5], "value": [300.0, 100.0, 0.0, 50.0],
                          "nulls": [0, 0, 400, 900]})
    sample = intervals.PathSample(paths, intervals.PATH_MODELS["markov"]({}))
    got = intervals.as_built(sample).set_index(["currency", "channel"])["share"]
    w = markov_attribution(paths.groupby("path", as_index=False)[["conversions", "value", "nulls"]].sum()).set_index(
        "channel")["share"]
    assert got[intervals.ALL_CURRENCIES, "a"] == pytest.approx(30 * w["a"] / (w["a"] + w["b"]) / 55)
    assert got[intervals.ALL_CURRENCIES, "b"] == pytest.approx((30 * w["b"] / (w["a"] + w["b"]) + 25) / 55)


def true_shares() -> pd.Series:
    """The known model's Shapley credit over a very large population's converters: the shares to cover."""
    converters, *_ = synthetic(600_000, seen=1.0, seed=99)
    credit = conversion_model.shapley_credit(TRUE_MODEL, converters)
    return credit.groupby("channel")["credit"].sum() / credit["credit"].sum()


def test_intervals_cover_the_true_shares_about_as_often_as_they_say_and_narrow_with_more_data():
    truth = true_shares()
    covered, widths = [], {}
    for n in (20_000, 80_000):
        for seed in range(6 if n == 20_000 else 2):
            converters, exposure, visitors, clicks, _ = synthetic(n, seen=1.0, seed=seed)
            journeys = converters.assign(currency="EUR", tracker_touches=converters["touches"], network_touches=0,
                                         seen_whole=True)
            reach = conversion_model.Reach(exposure, float(visitors), float(clicks), 1.0)
            found = intervals.intervals(intervals.ConversionModelSample(journeys, reach), draws=50, seed=seed)
            found = found.loc[found["currency"] == "EUR"].set_index("channel")
            if n == 20_000:
                covered += [row.share_low <= truth[c] <= row.share_high for c, row in found.iterrows()]
            widths.setdefault(n, []).append((found["share_high"] - found["share_low"]).mean())
    assert 0.75 <= np.mean(covered) <= 1.0, covered  # 90% intervals: 24 of them, about 22 expected
    assert np.mean(widths[80_000]) < 0.65 * np.mean(widths[20_000])  # four times the data: about half as wide
    again = intervals.intervals(intervals.ConversionModelSample(journeys, reach), draws=50, seed=seed)
    assert again.equals(intervals.intervals(intervals.ConversionModelSample(journeys, reach), draws=50, seed=seed))


def test_the_same_data_in_another_row_order_draws_the_same_intervals():
    """The warehouse returns rows in no fixed order; the intervals differed between two builds of the same data
    (the Dagster job's marts against the runner's)."""
    paths = pd.DataFrame({"currency": ["EUR", "USD", "EUR", None, None, "USD"],
                          "path": ["a > b", "a > b", "b", "a > b", "b", "c > a"],
                          "conversions": [30, 10, 20, 0, 0, 5], "value": [300.0, 90.0, 100.0, 0.0, 0.0, 20.0],
                          "nulls": [0, 0, 0, 400, 900, 0]})
    shuffled = paths.sample(frac=1.0, random_state=4)
    fit = intervals.PATH_MODELS["markov"]({})
    assert intervals.intervals(intervals.PathSample(paths, fit), draws=20).equals(
        intervals.intervals(intervals.PathSample(shuffled, fit), draws=20))
    converters, exposure, visitors, clicks, conversions = synthetic(5_000, seen=1.0)
    journeys = journeys_of(converters)
    reach = conversion_model.Reach(exposure, float(visitors), float(clicks),
                                   journeys.loc[journeys["seen_whole"], "conversion_id"].nunique() / conversions)
    assert intervals.intervals(intervals.ConversionModelSample(journeys, reach), draws=10).equals(
        intervals.intervals(intervals.ConversionModelSample(journeys.sample(frac=1.0, random_state=5), reach),
                            draws=10))
