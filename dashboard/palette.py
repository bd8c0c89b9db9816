"""One colour and one label per channel, the same in every chart and table of the page.

Colours are keyed by the channel's name, from the Okabe-Ito palette (told apart with the common colour-vision
deficiencies), assigned in the order of the channel seed (warehouse.project.channels), so adding a channel
to the seed never changes another channel's colour unless it is inserted before it. `direct` and channels the
seed does not know (a vendor's own) get greys.
"""

from __future__ import annotations

import hashlib

from warehouse.project import channels

OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
GREYS = ("#999999", "#7A7A7A", "#B5B5B5", "#5E5E5E")
NEUTRAL = {"direct": "#999999"}


def channel_colour(channel: object) -> str:
    name = str(channel)
    if name in NEUTRAL:
        return NEUTRAL[name]
    coloured = [c for c in channels() if c not in NEUTRAL]
    if name in coloured and coloured.index(name) < len(OKABE_ITO):
        return OKABE_ITO[coloured.index(name)]
    return GREYS[int(hashlib.blake2b(name.encode(), digest_size=2).hexdigest(), 16) % len(GREYS)]


def channel_label(channel: object) -> str:
    """`paid_search` -> `Paid search`."""
    return str(channel).replace("_", " ").capitalize()


def translucent(colour: str, alpha: float = 0.35) -> str:
    """`#RRGGBB` as an rgba() string (a Sankey link in its source's colour)."""
    red, green, blue = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red},{green},{blue},{alpha})"
