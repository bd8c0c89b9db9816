"""Scores of the warehouse against the sandbox's truth (attribution.accuracy)."""

from __future__ import annotations

import pytest

from attribution.accuracy import pairwise

pytestmark = pytest.mark.fast


def test_pairwise_precision_counts_wrong_merges_and_recall_missed_ones():
    truth = {"a1": "A", "a2": "A", "a3": "A", "b1": "B", "c1": "C"}
    assert pairwise(truth, truth) == (1.0, 1.0)
    # a3 kept apart: 1 of the 3 true pairs found, none wrong
    assert pairwise({"a1": 1, "a2": 1, "a3": 2, "b1": 3, "c1": 4}, truth) == (1.0, pytest.approx(1 / 3))
    # b1 merged into A: 3 true pairs of 6 put together, every true pair found
    assert pairwise({"a1": 1, "a2": 1, "a3": 1, "b1": 1, "c1": 4}, truth) == (0.5, 1.0)
    # only items both sides know are scored: a record the truth does not know changes nothing
    assert pairwise({"a1": 1, "a2": 1, "a3": 1, "b1": 3, "c1": 4, "x": 1}, truth) == (1.0, 1.0)
    assert pairwise({"b1": 1}, truth) == (1.0, 1.0)  # no pair to get wrong

