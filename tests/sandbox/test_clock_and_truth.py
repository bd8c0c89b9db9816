"""The clock reveals new and changed records; the truth matches what the vendors serve; seeds repeat; the
true channel effects follow the world's causal model."""

from __future__ import annotations

import urllib.error
from itertools import combinations
from math import factorial

import httpx
import numpy as np
import pytest

from simulator.causal import journeys
from simulator.effects import _effects
from simulator.process import running_sandbox
from simulator.world import BASE_LOG_ODDS, CHANNEL_LIFT, CHANNELS, TOUCH_CAP, TOUCH_LIFT, generate
from tests.conftest import TEST_SCALE, TEST_SEED
from tests.sandbox.helpers import CM_KEY, WINDOW, WM_PROJECTS, cm_all, wm_all, wm_token


def journeys_of(counts: np.ndarray):
    """Visitors' journeys from touch counts per channel, touching the channels in channel order."""
    rows, cols = np.nonzero(counts)
    repeat = counts[rows, cols].astype(int)
    visitor, channel = np.repeat(rows, repeat), np.repeat(cols, repeat)
    position = np.concatenate([np.arange(n) for n in np.bincount(visitor, minlength=len(counts))])
    return journeys(visitor, channel, position, len(counts))


def test_advancing_the_clock_adds_and_changes_records(fresh_sandbox):
    sb = fresh_sandbox
    before = sb.truth()
    truth_before = {line["order_ref"]: line for line in sb.control("GET", "truth/conversions")}
    sb.advance(24 * 7)
    after = sb.truth()
    for vendor, resources in after.items():
        for resource, count in resources.items():
            assert count >= before[vendor][resource], (vendor, resource)
    assert after["clickmagick"]["sales"] > before["clickmagick"]["sales"]
    assert after["integr8"]["clicks"] > before["integr8"]["clicks"]
    with httpx.Client(timeout=30) as client:
        rows = cm_all(client, sb.vendor_url("clickmagick"), "/v1/campaigns/sales", "sales", **WINDOW)
    assert len(rows) == after["clickmagick"]["sales"]
    truth_after = {line["order_ref"]: line for line in sb.control("GET", "truth/conversions")}
    changed = [ref for ref, line in truth_before.items() if truth_after[ref]["status"] != line["status"]]
    assert changed, "a week should refund or reject some earlier conversions"
    assert len(truth_after) > len(truth_before)


def test_clock_only_moves_forward(fresh_sandbox):
    with pytest.raises(urllib.error.HTTPError):
        fresh_sandbox.advance(-1)


def test_truth_conversions_agree_with_vendor_listings(sandbox):
    lines = sandbox.control("GET", "truth/conversions")
    counts = sandbox.truth()
    assert all(line["vendors"] for line in lines)
    assert len({line["order_ref"] for line in lines}) == len(lines)
    cm_sales = sum(1 for line in lines if line["type"] == "sale" and "clickmagick" in line["vendors"])
    assert cm_sales == counts["clickmagick"]["sales"]
    with httpx.Client(timeout=30) as client:
        base = sandbox.vendor_url("webmarketer")
        headers = wm_token(client, base)
        events = [e for p in WM_PROJECTS for e in wm_all(client, f"{base}/api/v1/projects/{p}/events", headers)]
    wm_refs = {e["event"]["order_ref"] for e in events if e["event"]["order_ref"]}
    truth_wm = {line["order_ref"] for line in lines if "webmarketer" in line["vendors"]}
    assert wm_refs <= truth_wm and len(truth_wm) == len(events)
    for line in lines:
        assert [t["time"] for t in line["path"]] == sorted(t["time"] for t in line["path"])
        assert all(t["time"] < line["time"] for t in line["path"])


def test_same_seed_same_world_and_different_seed_different_world():
    a, b, c = generate(5, 0.2), generate(5, 0.2), generate(6, 0.2)
    for table in ("touches", "conversions", "i8_clicks", "wm_outlays"):
        for column, values in getattr(a, table).items():
            np.testing.assert_array_equal(values, getattr(b, table)[column], err_msg=f"{table}.{column}")
    assert not np.array_equal(a.conversions["revenue"][:50], c.conversions["revenue"][:50])


def test_same_seed_serves_the_same_bytes():
    bodies = []
    for _ in range(2):
        with running_sandbox(seed=5, scale=0.2) as sb, httpx.Client(timeout=30) as client:
            bodies.append(client.get(f"{sb.vendor_url('clickmagick')}/v1/campaigns/sales/time_decay",
                                     params={"limit": 50, **WINDOW}, headers=CM_KEY).content)
    assert bodies[0] == bodies[1]


def test_channel_effects_follow_the_worlds_causal_model(sandbox):
    truth = sandbox.control("GET", "truth/channel_effects")
    channels = truth["channels"]
    assert [c["channel"] for c in channels] == CHANNELS
    added = truth["expected_conversions"] - truth["baseline_conversions"]
    assert sum(c["shapley_conversions"] for c in channels) == pytest.approx(added, rel=1e-9)
    assert sum(c["shapley_share"] for c in channels) == pytest.approx(1.0)
    assert all(c["removal_conversions"] > 0 for c in channels if c["channel"] != "display")

    # The world's own conversions among the same visitors agree with the expected count.
    world = generate(seed=TEST_SEED, scale=TEST_SCALE)
    last = world.touches["time"][world.visitors["touch_start"] + world.visitors["touch_count"] - 1]
    ended = last <= world.clock
    converted = np.isin(np.flatnonzero(ended), world.conversions["visitor"]).sum()
    expected = truth["expected_conversions"]
    assert truth["visitors"] == ended.sum()
    assert abs(converted - expected) < 4 * np.sqrt(expected)

    # Shapley values against a brute force over each visitor's own channels.
    counts = np.array([[3, 0, 0, 1, 2, 0, 0, 1], [0, 0, 1, 0, 0, 0, 0, 0], [1, 1, 1, 1, 1, 1, 1, 5]], dtype=float)
    _, _, removal, shapley = _effects(journeys_of(counts))
    for row, touches in enumerate(counts):
        present = [c for c in range(8) if touches[c] > 0]

        def p(coalition, touches=touches):  # the default world's model, written out independently
            log_odds = (BASE_LOG_ODDS + CHANNEL_LIFT[list(coalition)].sum()
                        + TOUCH_LIFT * min(touches[list(coalition)].sum(), TOUCH_CAP))
            return 1 / (1 + np.exp(-log_odds))

        n = len(present)
        for c in present:
            others = [o for o in present if o != c]
            phi = sum(factorial(len(s)) * factorial(n - len(s) - 1) / factorial(n) * (p((*s, c)) - p(s))
                      for size in range(n) for s in combinations(others, size))
            assert shapley[row, c] == pytest.approx(phi, abs=1e-12)
            assert removal[row, c] == pytest.approx(p(present) - p(others), abs=1e-12)
        assert all(shapley[row, c] == 0 for c in range(8) if c not in present)


def test_serve_takes_a_world_and_its_truth_says_which():
    """`serve --world NAME` (SCHEMA.md, World variants) and `--no-channel-chance P` (What no data show): the
    control endpoints say which causal model it runs, and the truth's baseline is P for every visitor."""
    with running_sandbox(seed=7, scale=0.5, world="position", no_channel=0.2) as sb:
        info, truth = sb.control("GET", "info"), sb.control("GET", "truth/channel_effects")
        assert info["world"] == truth["world"] == "position"
        assert info["no_channel_chance"] == truth["no_channel_chance"] == 0.2
        assert truth["baseline_conversions"] == pytest.approx(0.2 * truth["visitors"])
