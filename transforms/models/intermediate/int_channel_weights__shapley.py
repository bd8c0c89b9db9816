"""Each conversion's credit per channel: Shapley values of a fitted conversion probability (see
attribution.conversion_model). Fit on what site-wide trackers saw: the journeys of the conversions they
reported (seen whole) and their reports' visitors per channel. A conversion that only an ad network saw (in
part) gets the mean split of the journeys seen whole where a network saw the same channels, channels it did
not show included."""

import logging

import pandas as pd

from attribution import conversion_model

log = logging.getLogger("attribution")


def model(dbt, session):
    dbt.config(materialized="table")
    # in key order: an incremental table holds its rows in the order its runs appended them
    journeys = dbt.ref("int_journeys__channel_touches").order("conversion_id, channel").df()
    exposure = dbt.ref("int_exposure__channels").df()
    total, seen_whole = dbt.ref("int_conversions__deduplicated").aggregate(
        "count(*), count(*) filter (where seen_whole)").fetchone()
    seen = journeys["seen_whole"].astype(bool)
    whole, partial = journeys.loc[seen], journeys.loc[~seen]
    try:
        reach = conversion_model.reach(exposure, total, seen_whole)
        fitted = conversion_model.fit(
            whole.loc[whole["tracker_touches"] > 0, ["conversion_id", "channel", "tracker_touches"]]
            .rename(columns={"tracker_touches": "touches"}),
            reach.exposure, reach.visitors, reach.clicks, reach.seen_share)
    except ValueError as exc:
        # No reach reports yet, or too few journeys: each path is split by its touches, as the other
        # data-driven models do with paths they cannot weigh.
        log.warning("shapley: conversion model not fitted (%s); credit split by touches", exc)
        fitted = conversion_model.ConversionModel(0.0, {}, 0.0, 0.0)
    columns = ["conversion_id", "channel", "touches"]
    whole_credit = conversion_model.shapley_credit(fitted, whole[columns])
    partial_credit = conversion_model.expected_credit(
        fitted, whole_credit, whole.loc[whole["network_touches"] > 0, ["conversion_id", "channel"]], partial[columns])
    credit = pd.concat([whole_credit, partial_credit], ignore_index=True)
    return credit.rename(columns={"credit": "share"}).astype(
        {"conversion_id": "string", "channel": "string", "share": "float64"})
