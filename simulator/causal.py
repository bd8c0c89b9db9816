"""The world's causal model: the chance that a visitor converts, given the touches that reached it.

`default` is the model every earlier world used (logistic in the channels present and the touch count). The
variants (`serve --world NAME`) differ in structure, so attribution can be scored on worlds unlike its own
model; their parameters are fixed here and documented in SCHEMA.md, never tuned to a model:

- `interactions`: the default plus a term for some pairs of channels present together (one creates the
  demand the other captures, or two reach the same people).
- `position`: a channel counts half its default lift anywhere on the path, plus a bonus when it opened the
  journey (discovery channels) or closed it (capture channels).
- `dose`: a channel's lift grows with the log of its touches, instead of one term per touch.
- `probit`: the default's linear predictor through a normal link, Φ(η / 1.6), instead of the logistic.

Every model answers for coalitions too: p(S) is the chance had only the channels of S reached the visitor,
with only their touches, and (for `position`) the first and last touch among them; simulator/effects.py
takes Shapley values of that game.

One coalition no data show: p(∅), the chance had no channel reached the visitor. Every visitor arrives through a
channel (`direct` included), so no visitor, converting or not, is ever seen without one, and the world's data
follow p(P) alone. Each model's form extrapolates p(∅) (σ(β₀) in all but `probit`); `no_channel` sets it instead
(`serve --no-channel-chance`): the same visitors convert, every vendor serves the same records, and only the
truth moves (each channel's Shapley value gains (p(∅) - p'(∅)) / |P| on every path P it is on).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

CHANNELS = ["paid_search", "paid_social", "display", "affiliate", "email", "organic_search", "referral", "direct"]
CH = {name: i for i, name in enumerate(CHANNELS)}
CHANNEL_LIFT = np.array([0.35, 0.15, -0.05, 0.30, 0.45, 0.20, 0.05, 0.25])
BASE_LOG_ODDS = -2.1
TOUCH_LIFT, TOUCH_CAP = 0.08, 6
NOT_THERE = np.iinfo(np.int64).max  # the position of a channel's touch on a path it is not on


@dataclass(frozen=True)
class Journeys:
    """Per visitor and channel: touches, and the position of the channel's first and last touch on the path
    (NOT_THERE / -1 where the channel is absent)."""

    counts: np.ndarray
    first: np.ndarray
    last: np.ndarray

    def __getitem__(self, rows: np.ndarray) -> Journeys:
        return Journeys(self.counts[rows], self.first[rows], self.last[rows])


def journeys(visitor: np.ndarray, channel: np.ndarray, position: np.ndarray, visitors: int) -> Journeys:
    """From touch rows (visitor, channel, position on the visitor's path)."""
    k = len(CHANNELS)
    counts = np.zeros((visitors, k))
    np.add.at(counts, (visitor, channel), 1.0)
    first = np.full((visitors, k), NOT_THERE, dtype=np.int64)
    np.minimum.at(first, (visitor, channel), position)
    last = np.full((visitors, k), -1, dtype=np.int64)
    np.maximum.at(last, (visitor, channel), position)
    return Journeys(counts, first, last)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


def _default_log_odds(j: Journeys, member: np.ndarray, lift: np.ndarray = CHANNEL_LIFT) -> np.ndarray:
    """visitors x coalitions (rows of `member`, 1 for each channel in the coalition)."""
    present = (j.counts > 0).astype(float)
    return BASE_LOG_ODDS + present @ (member * lift).T + TOUCH_LIFT * np.minimum(j.counts @ member.T, TOUCH_CAP)


@dataclass(frozen=True)
class CausalModel:
    name: str
    pair_lift: dict[tuple[str, str], float] = field(default_factory=dict)
    first_bonus: dict[str, float] = field(default_factory=dict)
    last_bonus: dict[str, float] = field(default_factory=dict)
    presence_scale: float = 1.0  # `position`: the share of a channel's lift that does not depend on where it is
    dose: float = 0.0  # `dose`: a channel's lift is lift_c * (1 + dose * ln touches_c); no per-touch term
    link: str = "logit"
    no_channel: float | None = None  # p(∅) if not the form's own: changes the truth, never the data

    def probability(self, j: Journeys, member: np.ndarray) -> np.ndarray:
        """p(S) for every visitor (rows of `j`) and coalition S (rows of `member`): visitors x coalitions."""
        if self.dose:
            present = (j.counts > 0).astype(float)
            grown = present * (1 + self.dose * np.log(np.maximum(j.counts, 1.0))) * CHANNEL_LIFT
            eta = BASE_LOG_ODDS + grown @ member.T
        else:
            eta = _default_log_odds(j, member, CHANNEL_LIFT * self.presence_scale)
        if self.pair_lift:
            present = j.counts > 0
            for (a, b), lift in self.pair_lift.items():
                both = (present[:, CH[a]] & present[:, CH[b]]).astype(float)
                eta = eta + lift * np.outer(both, member[:, CH[a]] * member[:, CH[b]])
        if self.first_bonus or self.last_bonus:
            eta = eta + _end_bonus(j.first, member, self.first_bonus, np.less) \
                + _end_bonus(j.last, member, self.last_bonus, np.greater)
        if self.link == "probit":
            from scipy.special import ndtr  # only here: scipy costs every sandbox a quarter second to import

            p = ndtr(eta / 1.6)
        else:
            p = _sigmoid(eta)
        if self.no_channel is not None:  # a coalition of none of the channels that reached the visitor
            p[((j.counts > 0).astype(float) @ member.T) == 0] = self.no_channel
        return p

    def with_no_channel(self, chance: float | None) -> CausalModel:
        """This model with p(∅) = `chance` (None: the form's own)."""
        if chance is not None and not 0.0 <= chance < 1.0:
            raise ValueError(f"a chance of converting with no channel must be in [0, 1), not {chance}")
        return replace(self, no_channel=chance)


def _end_bonus(rank: np.ndarray, member: np.ndarray, bonus: dict[str, float], better) -> np.ndarray:
    """The bonus of the channel whose touch comes first (np.less on first positions) or last (np.greater on last
    positions) among the channels of each coalition: visitors x coalitions."""
    absent = NOT_THERE if better is np.less else -1
    best = np.full((len(rank), len(member)), absent, dtype=np.int64)
    out = np.zeros((len(rank), len(member)))
    for c, channel in enumerate(CHANNELS):
        candidate = np.where(member[None, :, c] > 0, rank[:, c : c + 1], absent)
        wins = better(candidate, best)
        best = np.where(wins, candidate, best)
        out = np.where(wins, bonus.get(channel, 0.0), out)
    return out


WORLDS = {
    "default": CausalModel("default"),
    "interactions": CausalModel("interactions", pair_lift={
        ("paid_social", "paid_search"): 0.6,  # social creates demand that search captures
        ("display", "affiliate"): 0.45,
        ("organic_search", "referral"): 0.3,
        ("email", "direct"): -0.35,  # both reach the people already on their way back
    }),
    "position": CausalModel("position", presence_scale=0.5,
                            first_bonus={"paid_social": 0.5, "display": 0.45, "affiliate": 0.3, "organic_search": 0.2},
                            last_bonus={"paid_search": 0.5, "email": 0.45, "direct": 0.35, "referral": 0.2}),
    "dose": CausalModel("dose", dose=0.6),
    "probit": CausalModel("probit", link="probit"),
}
