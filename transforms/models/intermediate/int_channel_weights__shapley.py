"""Each journey pattern's credit per channel: Shapley values of a fitted conversion probability (see
attribution.conversion_model). Fit on what site-wide trackers saw: the journeys of the conversions they
reported (seen whole) and their reports' visitors per channel. A conversion that only an ad network saw (in
part) gets the mean split of the journeys seen whole where a network saw the same channels, channels it did
not show included. Conversions with the same pattern (int_journeys__patterned) get the same split, so the
model reads the patterns with their conversion counts, never a row per conversion."""

import logging

import pandas as pd

from attribution import conversion_model, relations

log = logging.getLogger("attribution")


def model(dbt, session):
    dbt.config(materialized="table")
    # every currency together, in key order (the fit is the same whatever order the rows came in)
    patterns = relations.aggregate(dbt.ref("int_journey_patterns__counted"), [
        "any_value(touches) as touches", "any_value(tracker_touches) as tracker_touches",
        "any_value(network_touches) as network_touches", "any_value(seen_whole) as seen_whole",
        "sum(conversions) as conversions"], by=["pattern", "channel"])
    patterns = patterns.rename(columns={"pattern": "conversion_id"})  # a pattern stands for its conversions
    many = patterns.groupby("conversion_id")["conversions"].first().astype(float)
    exposure = relations.frame(dbt.ref("int_exposure__channels"))
    total, seen_whole = relations.conversion_counts(dbt.ref("int_conversions__deduplicated"))
    seen = patterns["seen_whole"].astype(bool)
    whole, partial = patterns.loc[seen], patterns.loc[~seen]
    try:
        reach = conversion_model.reach(exposure, total, seen_whole)
        fitted = conversion_model.fit(
            whole.loc[whole["tracker_touches"] > 0, ["conversion_id", "channel", "tracker_touches"]]
            .rename(columns={"tracker_touches": "touches"}),
            reach.exposure, reach.visitors, reach.clicks, reach.seen_share, weights=many)
    except ValueError as exc:
        # No reach reports yet, or too few journeys: each path is split by its touches, as the other
        # data-driven models do with paths they cannot weigh.
        log.warning("shapley: conversion model not fitted (%s); credit split by touches", exc)
        fitted = conversion_model.ConversionModel(0.0, {}, 0.0, 0.0)
    columns = ["conversion_id", "channel", "touches"]
    whole_credit = conversion_model.shapley_credit(fitted, whole[columns])
    partial_credit = conversion_model.expected_credit(
        fitted, whole_credit, whole.loc[whole["network_touches"] > 0, ["conversion_id", "channel"]], partial[columns],
        weights=many)
    credit = pd.concat([whole_credit, partial_credit], ignore_index=True)
    return relations.table(session, credit.rename(columns={"conversion_id": "pattern", "credit": "share"}).astype(
        {"pattern": "string", "channel": "string", "share": "float64"}))
