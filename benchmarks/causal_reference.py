"""The accuracy bench's yardstick for a model's error: the world's own causal model crediting the journeys the
warehouse holds.

A model's distance to the true shares has two parts: what the data leave out (touches no tracker saw, a
sample of converters standing for the visitors' expected conversions) and what the model gets wrong (its
form, its fit). Crediting the same conversions with the world's causal model itself, exact form and
parameters (simulator/effects.journey_credits), leaves the first part and one more: each conversion's credit
sums to one (as every model in the warehouse credits), which weighs each converter's split alike however much of
its chance it owed to no channel, while the true shares sum what channels add over every visitor. The world's
model crediting the same conversions incrementally (its Shapley values over each conversion's chance,
simulator/effects.journey_credits) leaves the first part alone: at scale 20 0.006-0.018 from the
truth, against 0.030-0.065 summing to one (2026-12-07). All are scored on the conversions a site-wide tracker saw
whole: a journey seen in part is a question of what the unseen touches were, which the world's model cannot
answer either.

What no data tell: the truth itself rests on p(∅), the chance of converting had no channel reached a visitor,
which no visitor shows (every one arrives through a channel; simulator/causal.py). `no_channel_spread` measures
how far the true shares move when p(∅) alone moves, the data unchanged: a model is right there by the luck of its
form's extrapolation, not by what it was shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import duckdb
import numpy as np

from attribution.accuracy import total_variation, true_shares
from simulator.causal import CHANNELS, WORLDS, journeys
from simulator.effects import channel_effects as true_effects
from simulator.effects import journey_credits
from simulator.world import generate

NO_CHANNEL_SHIFT = 0.2  # p(∅) a fifth lower and a fifth higher

# Each conversion's touches as observed and in order (before the path transforms), conversions seen whole only.
SEEN_WHOLE_TOUCHES = """
    select j.conversion_id, j.channel, j.touch_number
    from intermediate.int_journeys__assembled as j
    inner join intermediate.int_journeys__patterned as p using (conversion_id)
    where p.seen_whole
    order by j.conversion_id, j.touch_number
"""
SEEN_WHOLE_CREDIT = """
    select a.channel, sum(a.credit)
    from marts.attribution as a
    inner join intermediate.int_journeys__patterned as p using (conversion_id)
    where p.seen_whole and a.attribution_model = ?
    group by a.channel
"""


def seen_whole_distances(warehouse: str, world: str, model: str, channel_effects: Mapping[str, Any]
                         ) -> tuple[float, float, float]:
    """Over the conversions seen whole, the distance to the true shares of `model`, of the world's causal model
    crediting each conversion one, and of the world's model crediting them incrementally; `world` names the
    sandbox's variant (simulator/causal.py WORLDS)."""
    with duckdb.connect(warehouse, read_only=True) as con:
        touches = con.execute(SEEN_WHOLE_TOUCHES).df()
        credited = {channel: float(credit) for channel, credit in con.execute(SEEN_WHOLE_CREDIT, [model]).fetchall()}
    touches = touches.loc[touches["channel"].isin(CHANNELS)]
    ids, row = np.unique(touches["conversion_id"].to_numpy(), return_inverse=True)
    position = touches["touch_number"].to_numpy() - 1
    channel = touches["channel"].map({name: c for c, name in enumerate(CHANNELS)}).to_numpy()
    paths = journeys(row, channel, position, len(ids))
    truth = true_shares(channel_effects)
    reference, incremental = (dict(zip(CHANNELS, credit.sum(axis=0).tolist(), strict=True))
                              for credit in journey_credits(paths, WORLDS[world]))
    return total_variation(credited, truth), total_variation(reference, truth), total_variation(incremental, truth)


def no_channel_spread(seed: int, scale: float, world: str, identity: str, channel_effects: Mapping[str, Any]
                      ) -> tuple[float, float]:
    """The distance between the world's true shares (`channel_effects`, served by a sandbox of that seed, scale,
    world and identity at its first clock) and those of the same world with p(∅) a fifth lower, then a fifth
    higher: worlds whose vendors serve the same records. No model can be within half of it of both."""
    made = generate(seed, scale, world, identity)
    truth = true_shares(channel_effects)
    if total_variation(true_shares(true_effects(made)), truth) > 1e-9:
        raise ValueError(f"the world made here is not the sandbox's ({world}, seed {seed}, scale {scale})")
    baseline = channel_effects["baseline_conversions"] / channel_effects["visitors"]  # one p(∅) for every visitor
    lower, higher = (total_variation(true_shares(true_effects(
        replace(made, causal=made.causal.with_no_channel(baseline * factor)))), truth)
        for factor in (1 - NO_CHANNEL_SHIFT, 1 + NO_CHANNEL_SHIFT))
    return lower, higher
