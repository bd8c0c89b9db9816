"""The world reaches the sizes the warehouse must handle, in memory, generated in whole-array steps."""

from __future__ import annotations

import numpy as np
import pytest

from simulator.world import generate

SCALE_FOR_A_MILLION = 450


@pytest.mark.slow
def test_world_reaches_a_million_integr8_clicks_and_100k_clickmagick_sales():
    world = generate(7, SCALE_FOR_A_MILLION)
    c = world.conversions
    assert len(world.i8_clicks["time"]) >= 1_000_000
    assert int((c["cm"] & (c["kind"] == 0)).sum()) >= 100_000
    assert np.all(np.diff(world.i8_clicks["ms"]) >= 0)
