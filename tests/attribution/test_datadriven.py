"""Markov and Shapley on hand-solved games."""

from __future__ import annotations

import itertools
from fractions import Fraction

import pandas as pd
import pytest

from attribution.accuracy import total_variation
from attribution.datadriven import markov_attribution, shapley_attribution

pytestmark = pytest.mark.fast


def summary(rows):
    return pd.DataFrame(rows, columns=["path", "conversions", "value", "nulls"])


# Hand-solved: start -> a, b (1/2 each); a -> b 1/2, null 1/2; b -> conv 2/3, null 1/3.
# P = 1/2 * 1/3 + 1/2 * 2/3 = 1/2. Without a: 1/3 (RE 1/3). Without b: 0 (RE 1).
# Credits over 2 conversions: a = 2 * (1/3)/(4/3) = 1/2, b = 2 * 1/(4/3) = 3/2.
GAME = summary([("a > b", 1, 30.0, 0), ("a", 0, 0.0, 1), ("b", 1, 10.0, 1)])


def test_markov_first_order_matches_the_hand_solution():
    result = markov_attribution(GAME).set_index("channel")
    assert result.loc["a", "conversions"] == pytest.approx(float(Fraction(1, 2)), abs=1e-12)
    assert result.loc["b", "conversions"] == pytest.approx(float(Fraction(3, 2)), abs=1e-12)
    assert result.loc["a", "value"] == pytest.approx(float(Fraction(40) * Fraction(1, 4)), abs=1e-12)
    assert result["share"].sum() == pytest.approx(1.0)


def test_markov_second_order_matches_the_hand_solution():
    # Order 2 on "a > a > b" (1 conv), "b > a" (1 null): start->(a) 1/2, (b) 1/2; (a)->(a,a) 1;
    # (a,a)->(a,b) 1; (a,b)->conv 1; (b)->(b,a) 1; (b,a)->null 1. P = 1/2.
    # Without a: every path meets a -> 0, RE 1. Without b: start->(b) is lost, the a-path too -> 0, RE 1.
    paths = summary([("a > a > b", 1, 5.0, 0), ("b > a", 0, 0.0, 1)])
    result = markov_attribution(paths, order=2).set_index("channel")
    assert result.loc["a", "conversions"] == pytest.approx(0.5)
    assert result.loc["b", "conversions"] == pytest.approx(0.5)


def test_markov_value_weighted_removal_effect_follows_the_revenue():
    # start -> a, b (1/2 each), both convert: equal removal effects on conversions. On value, E = 50.5;
    # without a 0.5 (RE 50/50.5), without b 50 (RE 0.5/50.5): a holds 100/101 of the credit.
    paths = summary([("a", 1, 100.0, 0), ("b", 1, 1.0, 0)])
    by_conversions = markov_attribution(paths).set_index("channel")["share"]
    assert by_conversions.to_dict() == pytest.approx({"a": 0.5, "b": 0.5})
    by_value = markov_attribution(paths, weight="value").set_index("channel")
    assert by_value["share"].to_dict() == pytest.approx({"a": 100 / 101, "b": 1 / 101})
    assert by_value.loc["a", "value"] == pytest.approx(100.0) and by_value["conversions"].sum() == pytest.approx(2)
    with pytest.raises(ValueError, match="weight"):
        markov_attribution(paths, weight="revenue")


def test_markov_channel_that_never_matters_gets_nothing():
    paths = summary([("a", 3, 3.0, 0), ("c", 0, 0.0, 5)])
    result = markov_attribution(paths).set_index("channel")
    assert result.loc["a", "conversions"] == pytest.approx(3.0)
    assert result.loc["c", "conversions"] == pytest.approx(0.0)


def test_shapley_matches_the_hand_solution_and_is_efficient():
    # v(a)=0, v(b)=1, v(ab)=2: phi_a = (0 + 1)/2 = 1/2, phi_b = (1 + 2)/2 = 3/2.
    result = shapley_attribution(GAME).set_index("channel")
    assert result.loc["a", "conversions"] == pytest.approx(0.5)
    assert result.loc["b", "conversions"] == pytest.approx(1.5)
    three = summary([("a > b > c", 2, 20.0, 0), ("a", 1, 5.0, 0), ("c > b", 1, 1.0, 4), ("", 7, 7.0, 0)])
    out = shapley_attribution(three)
    assert out["conversions"].sum() == pytest.approx(4.0) and out["value"].sum() == pytest.approx(26.0)


def dense_removal_effects(paths: pd.DataFrame, order: int) -> dict[str, float]:
    """An independent reference: the chain as a dense matrix over named states, solved with numpy."""
    import numpy as np

    rows = []
    for path, conv, nulls in zip(paths["path"], paths["conversions"], paths["nulls"], strict=True):
        seq = path.split(" > ")
        names = [("START",)] + [("S", *seq[max(0, i - order + 1) : i + 1]) for i in range(len(seq))]
        rows += [(a, b, conv + nulls) for a, b in itertools.pairwise(names)]
        rows += [(names[-1], ("CONV",), conv), (names[-1], ("NULL",), nulls)]
    states = sorted({r[0] for r in rows} | {r[1] for r in rows})
    index = {s: i for i, s in enumerate(states)}
    m = np.zeros((len(states), len(states)))
    for a, b, w in rows:
        m[index[a], index[b]] += w
    m[index[("CONV",)], index[("CONV",)]] = m[index[("NULL",)], index[("NULL",)]] = 1.0
    totals = m.sum(axis=1, keepdims=True)
    m = np.divide(m, totals, out=np.zeros_like(m), where=totals > 0)  # a state nobody leaves leads nowhere

    def p(removed: str | None) -> float:
        t = m.copy()
        for s in states:
            if removed is not None and s[0] == "S" and removed in s[1:]:
                t[:, index[("NULL",)]] += t[:, index[s]]
                t[:, index[s]] = 0.0
        transient = [index[s] for s in states if s[0] in ("START", "S")]
        q = t[np.ix_(transient, transient)]
        r = t[transient, index[("CONV",)]]
        x = np.linalg.solve(np.eye(len(transient)) - q, r)
        return float(x[transient.index(index[("START",)])])

    base = p(None)
    channels = sorted({c for path in paths["path"] for c in path.split(" > ")})
    return {c: max(0.0, 1 - p(c) / base) for c in channels}


@pytest.mark.parametrize("order", [1, 2, 3])
def test_markov_matches_a_dense_reference_at_orders_1_to_3(order):
    import numpy as np

    rng = np.random.default_rng(order)
    paths = sorted({" > ".join(rng.choice(list("abcdef"), rng.integers(1, 6))) for _ in range(300)})
    frame = summary([(p, float(rng.integers(0, 4)), float(rng.random() * 50), float(rng.integers(0, 9)))
                     for p in paths])
    effects = dense_removal_effects(frame, order)
    total = sum(effects.values())
    result = markov_attribution(frame, order=order).set_index("channel")
    for channel, effect in effects.items():
        assert result.loc[channel, "share"] == pytest.approx(effect / total, abs=1e-12)


def test_a_channel_named_like_an_internal_state_gets_the_same_credit_as_any_name():
    names = {"(start)": "s", "conv": "k", "null": "n"}
    paths = summary([("(start) > x", 2, 2.0, 1), ("x", 1, 1.0, 3), ("(start)", 0, 0.0, 2), ("conv > null", 1, 1.0, 1)])
    renamed = paths.assign(path=[" > ".join(names.get(c, c) for c in p.split(" > ")) for p in paths["path"]])
    for order in (1, 2):
        original = markov_attribution(paths, order=order).set_index("channel")["share"]
        relabelled = markov_attribution(renamed, order=order).set_index("channel")["share"]
        for channel, share in original.items():
            assert share == pytest.approx(relabelled[names.get(channel, channel)], abs=1e-12), (order, channel)


@pytest.mark.parametrize(("rows", "says"), [
    ([("a", -1, 1.0, 0)], "conversions must be finite and not negative"),
    ([("a", 1, 1.0, float("nan"))], "nulls must be finite"),
    ([("a", float("inf"), 1.0, 0)], "conversions must be finite"),
    ([("a", 1, float("inf"), 0)], "value must be finite"),
    ([("a >  > b", 1, 1.0, 0)], "empty channel name"),
    ([("a > ", 1, 1.0, 0)], "empty channel name"),
])
def test_bad_path_summaries_are_rejected_with_the_reason(rows, says):
    with pytest.raises(ValueError, match=says):
        markov_attribution(summary(rows))
    with pytest.raises(ValueError, match=says):
        shapley_attribution(summary(rows))


@pytest.mark.parametrize("order", [0, -1, 1.5, True, "2"])
def test_markov_order_is_validated(order):
    with pytest.raises(ValueError, match="order must be a whole number"):
        markov_attribution(GAME, order=order)


def test_total_variation_is_half_the_absolute_difference_of_normalised_shares():
    assert total_variation({"a": 2, "b": 2}, {"a": 0.5, "b": 0.5}) == pytest.approx(0.0)
    assert total_variation({"a": 1}, {"b": 1}) == pytest.approx(1.0)
    assert total_variation({"a": 3, "b": 1}, {"a": 0.5, "b": 0.25, "c": 0.25}) == pytest.approx(0.25)
    with pytest.raises(ValueError):
        total_variation({}, {"a": 1})


