"""How the world's touches, visitors and conversions look as strings, shared by every vendor.

All functions take index arrays and return Arrow or numpy arrays, so pages (100 rows) and exports
(a million rows) use the same code.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from simulator import render
from simulator.identity import second_device
from simulator.world import (
    AFFILIATE_PUBLISHERS,
    BRANDS,
    CAMPAIGNS,
    CH,
    CHANNELS,
    DAY,
    PUBLISHERS,
    REFERRERS,
    World,
)

COUNTRIES = np.array(["US", "FR", "DE", "GB", "AU"], dtype=object)
USER_AGENTS = np.array(
    [f"Mozilla/5.0 ({os_}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{120 + v}.0 Safari/537.36"
     for os_ in ("Windows NT 10.0; Win64; x64", "Macintosh; Intel Mac OS X 14_5", "Linux; Android 14",
                 "iPhone; CPU iPhone OS 17_4 like Mac OS X")
     for v in range(10)],
    dtype=object,
)
SEARCH_TERMS = np.array(["surfboards", "ski jackets", "graphic tees", "free shipping", None], dtype=object)

_SOURCE = np.full((len(CHANNELS), max(AFFILIATE_PUBLISHERS, len(REFERRERS), 2)), None, dtype=object)
_SOURCE[CH["paid_search"], :2] = ["google", "bing"]
_SOURCE[CH["paid_social"], :2] = ["facebook", "tiktok"]
_SOURCE[CH["display"], :] = "gdn"
_SOURCE[CH["affiliate"], :AFFILIATE_PUBLISHERS] = PUBLISHERS[:AFFILIATE_PUBLISHERS]
_SOURCE[CH["email"], :] = "newsletter"
_SOURCE[CH["organic_search"], :2] = ["google", "bing"]
_SOURCE[CH["referral"], : len(REFERRERS)] = REFERRERS
_MEDIUM = np.array(["cpc", "paid_social", "display", "affiliate", "email", "organic", "referral", None], dtype=object)
_CAMPAIGN_NAMES = np.array([c[2] for c in CAMPAIGNS] + [None], dtype=object)  # index -1 = no campaign


def _none_if(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    out = values.astype(object)
    out[~mask] = None
    return out


def touch_utms(world: World, touch: np.ndarray) -> dict[str, np.ndarray]:
    t = world.touches
    ch, sub = t["channel"][touch], t["sub"][touch]
    key = t["click_key"][touch]
    return {
        "utm_source": _SOURCE[ch, sub],
        "utm_medium": _MEDIUM[ch],
        "utm_campaign": _CAMPAIGN_NAMES[t["campaign"][touch]],
        "utm_content": _none_if(np.char.add("ad-", (key % 5).astype(str)),
                                np.isin(ch, [CH["paid_search"], CH["paid_social"], CH["display"]])),
        "utm_term": np.where(ch == CH["paid_search"], SEARCH_TERMS[key % 5], None),
    }


def touch_click_ids(world: World, touch: np.ndarray) -> dict[str, np.ndarray]:
    """Ad-platform click ids on the landing URL: gclid (Google ads), msclkid (Bing), fbclid, ttclid."""
    t = world.touches
    ch, sub = t["channel"][touch], t["sub"][touch]
    hexes = render.hex_ids(t["click_key"][touch]).astype(str)
    return {
        "gclid": _none_if(np.char.add("EAIaIQobChMI", hexes),
                          ((ch == CH["paid_search"]) & (sub == 0)) | (ch == CH["display"])),
        "msclkid": _none_if(hexes, (ch == CH["paid_search"]) & (sub == 1)),
        "fbclid": _none_if(np.char.add("IwAR", hexes), (ch == CH["paid_social"]) & (sub == 0)),
        "ttclid": _none_if(np.char.add("E.C.P.", hexes), (ch == CH["paid_social"]) & (sub == 1)),
    }


def visitor_ids(world: World, visitor: np.ndarray) -> dict[str, np.ndarray]:
    """Identifiers of one person as each vendor knows them."""
    v = world.visitors
    uid = v["uid"][visitor].astype(np.uint64)
    hexes = render.hex_ids(uid).astype(str)
    alt = render.hex_ids(uid * np.uint64(0x9E3779B97F4A7C15)).astype(str)
    email = np.char.add(np.char.add("u", hexes), "@mail.example.com")
    return {
        "email": _none_if(email, v["has_email"][visitor]),
        "cmc_vid": np.char.add("cmv", hexes),
        "device_id": np.char.add("dev-", alt),
        "wm_user_id": np.char.add(alt, hexes.astype("U8")),
        "wm_tracker_id": np.char.add("trk", alt),
        "ip": np.asarray(render.ipv4(v["ip"][visitor]).to_pylist(), dtype=object),
        "user_agent": USER_AGENTS[v["ua"][visitor] % len(USER_AGENTS)],
        "country": COUNTRIES[v["country"][visitor]],
    }


SECOND_DEVICE_SALT = np.uint64(0xC2B2AE3D27D4EB4F)  # derives a buyer's second device's ids from the buyer's uid


def buyer_ids(world: World, conv: np.ndarray) -> dict[str, np.ndarray]:
    """Identifiers of each order's buyer as the vendors saw them at the order: the visitor's own, but those bound
    to a device (ClickMagick's visitor id, the device id, Webmarketer's tracker, the browser) are another
    device's where the order was placed on one (the hard identity world, simulator/identity.py)."""
    c = world.conversions
    ids = visitor_ids(world, c["visitor"][conv])
    other = second_device(c)[conv]
    if other.any():
        buyer = c["visitor"][conv][other]
        hexes = render.hex_ids(world.visitors["uid"][buyer].astype(np.uint64) * SECOND_DEVICE_SALT).astype(str)
        ids = {k: v.astype(object) for k, v in ids.items()}
        ids["cmc_vid"][other] = np.char.add("cmv", hexes)
        ids["device_id"][other] = np.char.add("dev-", hexes)
        ids["wm_tracker_id"][other] = np.char.add("trk", hexes)
        ids["user_agent"][other] = USER_AGENTS[(world.visitors["ua"][buyer] + 17) % len(USER_AGENTS)]
    return ids


def click_tx_ids(world: World, click: np.ndarray) -> np.ndarray:
    """The transaction id of tracked clicks: Integr8's `tx_id`, which the landing page passes on as `s2`."""
    k = world.i8_clicks
    return render.ulids(k["ms"][click], k["entropy"][click]).astype(str).astype(object)


def order_refs(world: World, conv: np.ndarray) -> np.ndarray:
    c = world.conversions
    prefix = np.array(["ORD-", "LEAD-", "ENG-"], dtype=object)[c["kind"][conv]]
    return np.char.add(prefix.astype(str), c["number"][conv].astype(str)).astype(object)


# ClickMagick's Auto Cost pulls the ad accounts' spend (Google, Microsoft, Meta, TikTok): the paid ad channels.
AUTO_COST_CHANNELS = [CH["paid_search"], CH["paid_social"], CH["display"]]
REPORT_DIMENSIONS = ("utm_source", "utm_medium", "utm_campaign")


def click_stats(world: World, brand: int, lo: int | None, hi: int, filters: dict[str, str]) -> dict[str, Any]:
    """ClickMagick's click statistics of one project over [lo, hi): totals, one row per UTC day and UTM
    source/medium/campaign, and one row per value of each UTM dimension (unique clicks are distinct visitors,
    so a dimension's rows are counted over the whole window, not summed from days). Clicks are the touches
    ClickMagick tracked; cost is the ad accounts' spend on every click of the paid ad channels (Auto Cost)."""
    import pandas as pd  # here, not at the top: ~0.6 s of every sandbox's start-up, and only stats reports need it
    t = world.touches
    time = t["time"]
    inside = (world.visitors["brand"][t["visitor"]] == brand) & (time < hi)
    if lo is not None:
        inside &= time >= lo
    touch = np.flatnonzero(inside)
    utms = touch_utms(world, touch)
    keep = np.ones(len(touch), dtype=bool)
    for key, wanted in filters.items():
        keep &= utms[key] == wanted
    touch = touch[keep]
    utms = {k: v[keep] for k, v in utms.items()}
    frame = pd.DataFrame({
        "date": (time[touch] // DAY).astype("datetime64[D]").astype(str),
        **{d: utms[d] for d in REPORT_DIMENSIONS},
        "seen": t["cm_observed"][touch],
        "visitor": t["visitor"][touch],
        "cost": np.where(np.isin(t["channel"][touch], AUTO_COST_CHANNELS), t["cost"][touch], 0.0),
    })
    frame["seen_visitor"] = frame["visitor"].where(frame["seen"])

    def rows(by: list[str], names: list[str]) -> list[dict[str, Any]]:
        sums = frame.groupby(by, dropna=False, sort=False).agg(
            clicks=("seen", "sum"), unique_clicks=("seen_visitor", "nunique"), cost=("cost", "sum")).reset_index()
        sums = sums.loc[(sums["clicks"] > 0) | (sums["cost"] > 0)]
        out = [{**{name: (None if pd.isna(row[col]) else row[col]) for name, col in zip(names, by, strict=True)},
                "clicks": int(row["clicks"]), "unique_clicks": int(row["unique_clicks"]),
                "cost": round(float(row["cost"]), 2)} for row in sums.to_dict("records")]
        return sorted(out, key=lambda r: tuple("" if r[n] is None else r[n] for n in names))

    return {
        "clicks": int(frame["seen"].sum()),
        "unique_clicks": int(frame["seen_visitor"].nunique()),
        "cost": round(float(frame["cost"].sum()), 2),
        "days": rows(["date", *REPORT_DIMENSIONS], ["date", *REPORT_DIMENSIONS]),
        "dimensions": {d: rows([d], ["value"]) for d in REPORT_DIMENSIONS},
    }


def brand_of_conversion(world: World, conv: np.ndarray) -> np.ndarray:
    return world.visitors["brand"][world.conversions["visitor"][conv]]


def currency_of_brand(brand: np.ndarray) -> np.ndarray:
    return np.array([b.currency for b in BRANDS], dtype=object)[brand]


def to_arrow(columns: dict[str, np.ndarray | pa.Array]) -> pa.Table:
    def arrow(values: np.ndarray | pa.Array) -> pa.Array:
        if isinstance(values, (pa.Array, pa.ChunkedArray)):
            return values
        return pa.array(values.tolist() if values.dtype.kind in "SU" else values)

    return pa.table({name: arrow(values) for name, values in columns.items()})
