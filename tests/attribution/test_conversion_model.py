"""The default data-driven model (attribution.conversion_model): the fit recovers a known conversion model from
converters and population totals alone, credit is the Shapley value of the fitted probability, and on the
sandbox's world it lands closer to the true channel shares than every heuristic."""

from __future__ import annotations

from math import isclose

import numpy as np
import pandas as pd
import pytest

from attribution import conversion_model
from attribution.accuracy import total_variation
from simulator import effects, views, world

pytestmark = pytest.mark.fast

CHANNELS = ["a", "b", "c", "d"]
LIFTS = np.array([0.6, 0.2, -0.3, 0.0])
INTERCEPT, TOUCH_LIFT = -2.0, 0.1


def long_rows(ids: np.ndarray, counts: np.ndarray, channels: list[str]) -> pd.DataFrame:
    rows, cols = np.nonzero(counts)
    return pd.DataFrame({"conversion_id": ids[rows].astype(str), "channel": np.array(channels)[cols],
                         "touches": counts[rows, cols]})


def synthetic(n: int, seen: float, seed: int = 3):
    """Visitors of a known logistic model: (converters seen, exposure, visitors, clicks, all conversions)."""
    rng = np.random.default_rng(seed)
    counts = rng.poisson(0.8, (n, len(CHANNELS))).astype(float)
    counts = counts[counts.sum(axis=1) > 0]
    p = 1 / (1 + np.exp(-(INTERCEPT + (counts > 0) @ LIFTS + TOUCH_LIFT * counts.sum(axis=1))))
    converts = rng.random(len(counts)) < p
    shown = converts & (rng.random(len(counts)) < seen)
    ids = np.arange(len(counts))
    exposure = pd.DataFrame({"channel": CHANNELS, "visitors": (counts > 0).sum(axis=0)})
    return long_rows(ids[shown], counts[shown], CHANNELS), exposure, len(counts), counts.sum(), converts.sum()


def test_the_fit_recovers_a_known_model_from_converters_and_totals_alone():
    converters, exposure, visitors, clicks, conversions = synthetic(400_000, seen=0.8)
    seen_share = converters["conversion_id"].nunique() / conversions
    model = conversion_model.fit(converters, exposure, visitors, clicks, seen_share)
    assert model.intercept == pytest.approx(INTERCEPT, abs=0.05)
    assert model.touch_lift == pytest.approx(TOUCH_LIFT, abs=0.03)
    for channel, lift in zip(CHANNELS, LIFTS, strict=True):
        assert model.lifts[channel] == pytest.approx(lift, abs=0.05), channel
    assert model.fitted_visitors == pytest.approx(visitors, rel=1e-4)


def test_credit_is_the_shapley_value_of_the_probability_normalised():
    model = conversion_model.ConversionModel(-2.0, {"a": 0.6, "b": 0.2, "c": -0.3}, 0.1, 0.0)

    def p(lift: float, touches: float) -> float:
        return 1 / (1 + np.exp(-(-2.0 + lift + 0.1 * touches)))

    journeys = pd.DataFrame({"conversion_id": ["x", "x", "y", "z", "z"], "channel": ["a", "b", "a", "a", "c"],
                             "touches": [2, 1, 1, 1, 2]})
    credit = conversion_model.shapley_credit(model, journeys).set_index(["conversion_id", "channel"])["credit"]
    # x: two players; each gets half its marginal worth joining alone plus half joining the other.
    phi_a = 0.5 * (p(0.6, 2) - p(0, 0)) + 0.5 * (p(0.8, 3) - p(0.2, 1))
    phi_b = 0.5 * (p(0.2, 1) - p(0, 0)) + 0.5 * (p(0.8, 3) - p(0.6, 2))
    assert isclose(credit["x", "a"], phi_a / (phi_a + phi_b), rel_tol=1e-12)
    assert isclose(credit["x", "b"], phi_b / (phi_a + phi_b), rel_tol=1e-12)
    assert credit["y", "a"] == 1.0  # a path of one channel: all its credit
    # z: c lowers the chance of converting more than its two touches raise it: a negative value, no credit.
    assert ("z", "c") not in credit.index and credit["z", "a"] == 1.0
    assert credit.groupby(level=0).sum().tolist() == pytest.approx([1.0, 1.0, 1.0])


def test_paths_the_model_cannot_weigh_are_split_by_touches():
    unfitted = conversion_model.ConversionModel(0.0, {}, 0.0, 0.0)
    journeys = pd.DataFrame({"conversion_id": ["x", "x"], "channel": ["a", "b"], "touches": [3, 1]})
    credit = conversion_model.shapley_credit(unfitted, journeys).set_index("channel")["credit"]
    assert credit.to_dict() == {"a": 0.75, "b": 0.25}


def test_a_journey_seen_in_part_gets_the_split_of_journeys_seen_whole_with_the_same_visible_part():
    model = conversion_model.ConversionModel(-2.0, {"aff": 0.3, "search": 0.4, "email": 0.5}, 0.1, 0.0)
    n = conversion_model.MIN_MATCHES
    # Whole journeys: n where the network saw affiliate (half aff+search, half aff+email), n it saw nothing.
    whole = pd.DataFrame(
        [(f"w{i}", "aff", 1) for i in range(n)] + [(f"w{i}", "search" if i % 2 else "email", 1) for i in range(n)]
        + [(f"v{i}", "search", 2) for i in range(n)], columns=["conversion_id", "channel", "touches"])
    whole_credit = conversion_model.shapley_credit(model, whole)
    seen_by_network = pd.DataFrame({"conversion_id": [f"w{i}" for i in range(n)], "channel": "aff"})
    partial = pd.DataFrame({"conversion_id": ["p", "q"], "channel": ["aff", "display"], "touches": [1, 1]})
    credit = conversion_model.expected_credit(model, whole_credit, seen_by_network, partial)
    p = credit.loc[credit["conversion_id"] == "p"].set_index("channel")["credit"]
    expected = (whole_credit.loc[whole_credit["conversion_id"].str.startswith("w")]
                .groupby("channel")["credit"].sum() / n)
    assert p.to_dict() == pytest.approx(expected.to_dict())
    assert set(p.index) == {"aff", "search", "email"} and p.sum() == pytest.approx(1.0)
    # A visible part no journey seen whole shares: credited from its own touches.
    q = credit.loc[credit["conversion_id"] == "q"].set_index("channel")["credit"]
    assert q.to_dict() == {"display": 1.0}


def test_no_journeys_give_no_credit():
    """A warehouse without conversions yet (or `dbt build --empty`): no credit, no error. Summing the whole
    journeys' credit per visible set failed on no channels at all (numpy's stack of no columns)."""
    model = conversion_model.ConversionModel(-2.0, {}, 0.0, 0.0)
    none = pd.DataFrame({"conversion_id": pd.Series(dtype=object), "channel": pd.Series(dtype=object),
                         "touches": pd.Series(dtype=float)})
    whole_credit = conversion_model.shapley_credit(model, none)
    credit = conversion_model.expected_credit(model, whole_credit, none[["conversion_id", "channel"]], none)
    assert credit.empty and list(credit.columns) == ["conversion_id", "channel", "credit"]
    assert conversion_model.group_sums(np.array([0, 1, 1]), np.zeros((3, 0)), 2).shape == (2, 0)


def test_bad_inputs_are_refused_with_the_reason():
    converters, exposure, visitors, clicks, _ = synthetic(2_000, seen=1.0)
    with pytest.raises(ValueError, match="seen_share"):
        conversion_model.fit(converters, exposure, visitors, clicks, 0.0)
    with pytest.raises(ValueError, match="no visitors or clicks"):
        conversion_model.fit(converters, exposure, 0, 0, 0.5)
    with pytest.raises(ValueError, match="too few"):
        conversion_model.fit(converters.head(3), exposure, visitors, clicks, 0.5)


# --- against the sandbox's causal truth -----------------------------------------------------------------

MEDIUM_CHANNEL = {medium: world.CHANNELS[c] for c, medium in enumerate(views._MEDIUM)}


def what_clickmagick_shows(w: world.World) -> tuple[pd.DataFrame, pd.DataFrame, int, int, float]:
    """The model's inputs as ClickMagick shows them: the tracked touches of the conversions it reported, and
    its stats reports' reach per channel (utm_medium) and totals, every brand together."""
    t, v, c = w.touches, w.visitors, w.conversions
    done = np.flatnonzero(c["time"] <= w.clock)
    reported = done[c["cm"][done]]
    counts = np.zeros((len(reported), len(world.CHANNELS)))
    for row, conv in enumerate(reported):
        start = v["touch_start"][c["visitor"][conv]]
        span = np.arange(start, start + v["touch_count"][c["visitor"][conv]])
        span = span[t["cm_observed"][span] & (t["time"][span] < c["time"][conv])]
        np.add.at(counts[row], t["channel"][span], 1)
    reach = {name: 0 for name in world.CHANNELS}
    visitors = clicks = 0
    for brand in range(len(world.BRANDS)):
        stats = views.click_stats(w, brand, None, w.clock + 1, {})
        visitors, clicks = visitors + stats["unique_clicks"], clicks + stats["clicks"]
        for row in stats["dimensions"]["utm_medium"]:
            reach[MEDIUM_CHANNEL[row["value"]]] += row["unique_clicks"]
    exposure = pd.DataFrame({"channel": list(reach), "visitors": list(reach.values())})
    return (long_rows(reported, counts, world.CHANNELS), exposure, visitors, clicks,
            len(reported) / len(done))


def heuristic_shares(journeys: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Linear (per touch) and 'any touch' (equal per channel) credit over the same journeys."""
    per_conversion = journeys.groupby("conversion_id")
    linear = journeys["touches"] / per_conversion["touches"].transform("sum")
    equal = 1 / per_conversion["channel"].transform("count")
    return {name: journeys.assign(credit=credit).groupby("channel")["credit"].sum().to_dict()
            for name, credit in (("linear", linear), ("equal_per_channel", equal))}


@pytest.mark.parametrize("seed", [7, 11, 23])
def test_on_the_sandbox_world_the_model_is_closer_to_the_causal_truth_than_heuristics(seed):
    w = world.generate(seed=seed, scale=5)
    truth = {c["channel"]: c["shapley_share"] for c in effects.channel_effects(w)["channels"]}
    converters, exposure, visitors, clicks, seen_share = what_clickmagick_shows(w)
    model = conversion_model.fit(converters, exposure, visitors, clicks, seen_share)
    credit = conversion_model.shapley_credit(model, converters).groupby("channel")["credit"].sum().to_dict()
    distance = total_variation(credit, truth)
    baselines = {name: total_variation(shares, truth) for name, shares in heuristic_shares(converters).items()}
    print(f"\nseed {seed}: conversion-model Shapley {distance:.3f}, heuristics",
          {k: round(d, 3) for k, d in baselines.items()})
    assert distance < 0.10
    assert distance < min(baselines.values())
