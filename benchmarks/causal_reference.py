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
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import duckdb
import numpy as np

from attribution.accuracy import total_variation, true_shares
from simulator.causal import CHANNELS, WORLDS, journeys
from simulator.effects import journey_credits

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
