"""Markov and Shapley on hand-solved games; identity components."""

from __future__ import annotations

from fractions import Fraction

import pandas as pd
import pytest

from attribution.datadriven import markov_attribution, shapley_attribution
from attribution.identity import connected_components


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


def test_connected_components_are_deterministic():
    edges = pd.DataFrame(
        {"node_a": ["email:x", "dev:1", "cmv:9", "ref:R2"], "node_b": ["cmv:9", "tx:5", "tx:5", "dev:7"]}
    )
    result = connected_components(edges).set_index("node")["person_id"]
    assert result["email:x"] == result["dev:1"] == result["tx:5"]
    assert result["ref:R2"] == result["dev:7"] != result["email:x"]
    shuffled = connected_components(edges.iloc[::-1].reset_index(drop=True)).set_index("node")["person_id"]
    assert shuffled.to_dict() == result.to_dict()
