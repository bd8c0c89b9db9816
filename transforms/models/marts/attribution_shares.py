"""Each model's share of credited conversions per channel, per currency and over every currency together
(currency 'all'), with 90% bootstrap intervals for the data-driven models (attribution.intervals). The point
share is the attribution mart's own; the interval is what redrawn conversions make of it."""

import pandas as pd

from attribution import conversion_model, intervals, relations


def model(dbt, session):
    dbt.config(materialized="table")
    draws, seed = int(dbt.config.get("draws") or intervals.DRAWS), int(dbt.config.get("seed") or intervals.SEED)
    credit = relations.aggregate(dbt.ref("attribution"), ["sum(credit) as credit"],
                                 by=["attribution_model", "currency", "channel"])
    found = []
    for name, rows in credit.groupby("attribution_model"):
        wide = rows.pivot_table(index="currency", columns="channel", values="credit", aggfunc="sum",
                                fill_value=0.0, dropna=False)
        shares = intervals.shares_of(wide.to_numpy(), wide.index.to_numpy(dtype=object), list(wide.columns))
        sample = sample_of(dbt, str(name))
        bounds = intervals.intervals(sample, draws, seed) if sample is not None else None
        if bounds is not None:
            shares = shares.merge(bounds, on=["currency", "channel"], how="left")
        found.append(shares.assign(attribution_model=name))
    columns = ["attribution_model", "currency", "channel", "share", "share_low", "share_high"]
    out = pd.concat(found, ignore_index=True).reindex(columns=columns) if found else pd.DataFrame(columns=columns)
    return relations.table(session, out.astype({
        "attribution_model": "string", "currency": "string", "channel": "string",
        "share": "float64", "share_low": "float64", "share_high": "float64"}))


def sample_of(dbt, name: str) -> intervals.Sample | None:
    """What the model's intervals redraw; none for a heuristic (a rule: nothing fitted to redraw)."""
    if name == "shapley":
        # a pattern and currency stands for its conversions: the sample never holds a row per conversion
        journeys = relations.select(dbt.ref("int_journey_patterns__counted"), [
            "pattern || '|' || coalesce(currency, '') as conversion_id", "currency", "channel", "touches",
            "tracker_touches", "network_touches", "seen_whole", "conversions"])
        total, seen_whole = relations.conversion_counts(dbt.ref("int_conversions__deduplicated"))
        reach = conversion_model.reach(relations.frame(dbt.ref("int_exposure__channels")), total, seen_whole)
        return intervals.ConversionModelSample(journeys, reach)
    if name in intervals.PATH_MODELS:
        fit = intervals.PATH_MODELS[name]({"markov_order": dbt.config.get("markov_order"),
                                           "markov_weight": dbt.config.get("markov_weight")})
        return intervals.PathSample(relations.frame(dbt.ref("int_paths__by_currency")), fit)
    return None
