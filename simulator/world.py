"""The deterministic synthetic world behind every vendor of the sandbox.

One generator, seeded, produces visitors, their multi-touch journeys and their conversions over a
fixed horizon. Each vendor sees a part of that world (which touches it tracked, which conversions
it reported, with its own delays), and a simulated clock decides what is visible: records appear
when the clock passes their `visible_at`, refunds and fraud decisions when it passes theirs.

Everything is generated with numpy in whole-array operations; strings are rendered only when
served (see `render`). Sizes scale linearly with `scale` (see `VISITORS_PER_SCALE`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

# The channels and the causal model (each channel present in a path lifts the log-odds of converting, plus a
# term per touch, capped) live in simulator/causal.py with the world variants.
from simulator.causal import (  # noqa: F401 (re-exported: the world's channels and default model)
    BASE_LOG_ODDS,
    CH,
    CHANNEL_LIFT,
    CHANNELS,
    TOUCH_CAP,
    TOUCH_LIFT,
    WORLDS,
    CausalModel,
    Journeys,
    journeys,
)
from simulator.identity import (  # how hard records are to tie together (serve --identity)
    DEFAULT_IDENTITY,
    IDENTITIES,
    REPEAT_STREAM,
    harden,
    repeat_orders,
)

DAY = 86_400
HOUR = 3_600
EPOCH = int(datetime(2026, 9, 1, tzinfo=UTC).timestamp())
HORIZON_DAYS = 60
INITIAL_CLOCK_DAYS = 45
VISITORS_PER_SCALE = 2_500

# Touch channel mix: the first touch of a journey is more often a discovery channel.
FIRST_TOUCH_P = [0.20, 0.20, 0.08, 0.22, 0.02, 0.18, 0.06, 0.04]
LATER_TOUCH_P = [0.15, 0.12, 0.06, 0.15, 0.14, 0.12, 0.06, 0.20]
SALE_LOG_MEAN, SALE_LOG_SD = 4.2, 0.6  # a sale's revenue is lognormal; other conversion kinds carry none
COST_PER_CLICK = np.array([1.20, 0.80, 0.30, 0.10, 0.0, 0.0, 0.0, 0.0])
CONVERSION_KINDS = ["sale", "action", "engagement"]
KIND_P = [0.70, 0.20, 0.10]
ATTRIBUTION_MODELS = ["first_click", "last_click", "linear", "pos_based", "time_decay"]
TIME_DECAY_HALF_LIFE_S = 7 * DAY
REJECTION_REASONS = ["VPN", "DUPLICATE_IP", "PROXY", "BOT", "CLICK_SPAM"]
PUBLISHERS = [
    "coupon-hub", "deal-finder", "cashback-club", "review-central", "blog-network", "price-radar",
    "loyalty-plus", "student-saver", "tech-deals", "outdoor-weekly", "meta-ads", "tiktok-ads",
    "google-display",
]
AFFILIATE_PUBLISHERS = 10  # the first ten publishers are affiliates; the rest are ad platforms
REFERRERS = ["news.example.org", "forum.example.net", "partner-blog.example.com", "wiki.example.org"]
TRASH_ERRORS = [
    ("invalid-field", "email", "email", "not-an-email"),
    ("invalid-field", "phone", "phone", "0613"),
    ("missing-field", "amount", "currency", None),
    ("invalid-field", "location", "location", "wd"),
    ("invalid-type", "amount", "number", "twelve"),
]


@dataclass(frozen=True)
class Brand:
    key: str
    currency: str
    time_zone: str
    cm_project_id: int
    i8_integration_id: str
    i8_advertiser_id: str
    wm_project_id: str
    wm_integration_id: str


BRANDS = [
    Brand("surf-shop", "USD", "America/New_York", 29583, "int-surf-7f3a", "adv-1001", "surf-shop", "wmkt-surf"),
    Brand("alpine-gear", "EUR", "Europe/Paris", 29584, "int-alpine-91c2", "adv-1002", "alpine-gear", "wmkt-alpine"),
    Brand("outback-tees", "AUD", "Australia/Sydney", 29585, "int-outback-44d8", "adv-1003", "outback-tees",
          "wmkt-outback"),
]
BRAND_P = [0.5, 0.3, 0.2]


def _campaigns() -> list[tuple[int, int, str, str, str]]:
    """(brand, channel, utm_campaign, utm_source default, utm_medium) for every campaign."""
    rows = []
    for b, brand in enumerate(BRANDS):
        k = brand.key
        rows += [
            (b, CH["paid_search"], f"{k}-search-brand", "google", "cpc"),
            (b, CH["paid_search"], f"{k}-search-generic", "google", "cpc"),
            (b, CH["paid_social"], f"{k}-social-prospecting", "facebook", "paid_social"),
            (b, CH["paid_social"], f"{k}-social-retargeting", "facebook", "paid_social"),
            (b, CH["display"], f"{k}-display-remarketing", "google-display", "display"),
            (b, CH["email"], f"{k}-newsletter", "newsletter", "email"),
        ]
        rows += [(b, CH["affiliate"], f"{k}-offer-{i + 1}", "affiliate", "affiliate") for i in range(4)]
    return rows


CAMPAIGNS = _campaigns()
CAMPAIGN_BRAND = np.array([c[0] for c in CAMPAIGNS])
CAMPAIGN_CHANNEL = np.array([c[1] for c in CAMPAIGNS])
# Integr8 offers: the affiliate campaigns, plus one offer per brand for tracked social and display links.
OFFER_CAMPAIGNS = [i for i, c in enumerate(CAMPAIGNS) if c[1] in (CH["affiliate"], CH["display"])] + [
    i for i, c in enumerate(CAMPAIGNS) if c[1] == CH["paid_social"] and c[2].endswith("prospecting")
]
# Webmarketer custom-ads campaigns: the paid ad campaigns (affiliates are paid through Integr8).
WM_CAMPAIGNS = [i for i, c in enumerate(CAMPAIGNS) if c[1] in (CH["paid_search"], CH["paid_social"], CH["display"])]


def _group_starts(counts: np.ndarray) -> np.ndarray:
    starts = np.zeros(len(counts), dtype=np.int64)
    np.cumsum(counts[:-1], out=starts[1:])
    return starts


def _choice(rng: np.random.Generator, p: list[float] | np.ndarray, n: int) -> np.ndarray:
    return np.searchsorted(np.cumsum(p), rng.random(n) * np.sum(p), side="right").clip(0, len(p) - 1)


def _delays(rng: np.random.Generator, n: int, late_share: float = 0.04) -> np.ndarray:
    """Seconds between an event and its visibility: minutes usually, hours to two days when late."""
    delay = rng.integers(30, 600, n)
    late = rng.random(n) < late_share
    delay[late] = rng.integers(6 * HOUR, 2 * DAY, int(late.sum()))
    return delay


@dataclass
class World:
    """All tables of the world, as columns (numpy arrays) keyed by name."""

    seed: int
    scale: float
    clock: int
    causal: CausalModel = WORLDS["default"]  # what makes visitors convert (serve --world)
    identity: str = DEFAULT_IDENTITY  # how hard records are to tie together (serve --identity, simulator/identity.py)
    touches: dict[str, np.ndarray] = field(default_factory=dict)
    visitors: dict[str, np.ndarray] = field(default_factory=dict)
    conversions: dict[str, np.ndarray] = field(default_factory=dict)
    i8_clicks: dict[str, np.ndarray] = field(default_factory=dict)
    i8_impressions: dict[str, np.ndarray] = field(default_factory=dict)
    i8_conversions: dict[str, np.ndarray] = field(default_factory=dict)
    i8_postbacks: dict[str, np.ndarray] = field(default_factory=dict)
    wm_trash: dict[str, np.ndarray] = field(default_factory=dict)
    wm_outlays: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def horizon_end(self) -> int:
        return EPOCH + HORIZON_DAYS * DAY

    def advance(self, hours: float) -> int:
        self.clock += round(hours * HOUR)
        return self.clock


def generate(seed: int = 7, scale: float = 1.0, variant: str = "default", identity: str = DEFAULT_IDENTITY,
             no_channel: float | None = None) -> World:
    """The world of `seed` and `scale` under the causal model `variant`, in the identity world `identity`;
    `no_channel`: p(∅), the chance of converting had no channel reached a visitor, if not the model's own
    (simulator/causal.py: it moves the truth, never the data)."""
    if variant not in WORLDS:
        raise ValueError(f"no world {variant!r}; the worlds are {', '.join(WORLDS)}")
    if identity not in IDENTITIES:
        raise ValueError(f"no identity world {identity!r}; they are {', '.join(IDENTITIES)}")
    rng = np.random.default_rng(seed)
    world = World(seed=seed, scale=scale, clock=EPOCH + INITIAL_CLOCK_DAYS * DAY,
                  causal=WORLDS[variant].with_no_channel(no_channel), identity=identity)
    n_visitors = max(50, int(VISITORS_PER_SCALE * scale))
    _visitors(world, rng, n_visitors)
    _touches(world, rng)
    _conversions(world, rng)
    if identity == "hard":
        _add_repeat_orders(world)
    _network_records(world, rng)
    _event_platform_records(world, rng)
    if identity == "hard":
        harden(world.conversions, seed)
    return world


def _visitors(world: World, rng: np.random.Generator, n: int) -> None:
    world.visitors = {
        "brand": _choice(rng, BRAND_P, n),
        "has_email": rng.random(n) < 0.75,
        "uid": rng.integers(0, 2**63, n, dtype=np.int64),  # seeds every per-visitor id
        "ip": rng.integers(0x0B000000, 0xDF000000, n, dtype=np.int64),
        "ua": rng.integers(0, 40, n),
        "country": _choice(rng, [0.45, 0.2, 0.15, 0.1, 0.1], n),
    }


def _touches(world: World, rng: np.random.Generator) -> None:
    v = world.visitors
    n = len(v["brand"])
    counts = 1 + np.minimum(rng.poisson(2.2, n), 11)
    starts = _group_starts(counts)
    total = int(counts.sum())
    visitor = np.repeat(np.arange(n), counts)
    position = np.arange(total) - np.repeat(starts, counts)
    journey_start = EPOCH + rng.integers(0, (HORIZON_DAYS - 2) * DAY, n)
    gaps = rng.exponential(1.1 * DAY, total).astype(np.int64) + 60
    gaps[position == 0] = 0
    run = np.cumsum(gaps)
    time = np.repeat(journey_start, counts) + run - np.repeat(run[starts], counts)

    first = position == 0
    channel = np.empty(total, dtype=np.int64)
    channel[first] = _choice(rng, FIRST_TOUCH_P, int(first.sum()))
    channel[~first] = _choice(rng, LATER_TOUCH_P, int((~first).sum()))

    brand = v["brand"][visitor]
    # Pick the campaign among the brand's campaigns of that channel; none for organic, referral, direct.
    campaign = np.full(total, -1, dtype=np.int64)
    for b in range(len(BRANDS)):
        for ch in np.unique(CAMPAIGN_CHANNEL):
            options = np.flatnonzero((b == CAMPAIGN_BRAND) & (ch == CAMPAIGN_CHANNEL))
            sel = np.flatnonzero((brand == b) & (channel == ch))
            campaign[sel] = options[rng.integers(0, len(options), len(sel))]

    # Sub-source: search engine / social network / publisher / referrer, by channel.
    sub = np.zeros(total, dtype=np.int64)
    sub[channel == CH["paid_search"]] = (rng.random(int((channel == CH["paid_search"]).sum())) < 0.25)  # 1 = bing
    sub[channel == CH["paid_social"]] = (rng.random(int((channel == CH["paid_social"]).sum())) < 0.3)  # 1 = tiktok
    sub[channel == CH["organic_search"]] = (rng.random(int((channel == CH["organic_search"]).sum())) < 0.2)
    aff = channel == CH["affiliate"]
    sub[aff] = rng.integers(0, AFFILIATE_PUBLISHERS, int(aff.sum()))
    ref = channel == CH["referral"]
    sub[ref] = rng.integers(0, len(REFERRERS), int(ref.sum()))

    cost = np.round(COST_PER_CLICK[channel] * rng.uniform(0.6, 1.4, total), 2)
    cm_observed = rng.random(total) < 0.92
    # Integr8 tracks the links of its offers: affiliates, display, and prospecting social.
    i8_tracked = np.isin(campaign, OFFER_CAMPAIGNS)
    i8_observed = i8_tracked & (rng.random(total) < 0.97)
    world.touches = {
        "visitor": visitor,
        "position": position,
        "time": time,
        "channel": channel,
        "campaign": campaign,
        "sub": sub,
        "cost": cost,
        "cm_observed": cm_observed,
        "i8_observed": i8_observed,
        "click_key": rng.integers(0, 2**63, total, dtype=np.int64),  # seeds gclid/fbclid/tx ids
    }
    world.visitors["touch_start"] = starts
    world.visitors["touch_count"] = counts


def visitor_journeys(world: World) -> Journeys:
    t = world.touches
    return journeys(t["visitor"], t["channel"], t["position"], len(world.visitors["brand"]))


def _conversions(world: World, rng: np.random.Generator) -> None:
    v, t = world.visitors, world.touches
    n = len(v["brand"])
    everything = np.ones((1, len(CHANNELS)))
    converts = rng.random(n) < world.causal.probability(visitor_journeys(world), everything)[:, 0]
    last_touch_time = t["time"][v["touch_start"] + v["touch_count"] - 1]
    conv_time = last_touch_time + rng.exponential(40 * 60, n).astype(np.int64) + 30
    converts &= conv_time < world.horizon_end
    who = np.flatnonzero(converts)
    kind = _choice(rng, KIND_P, len(who))
    world.conversions = _in_time_order(_orders(world, rng, who, kind, conv_time[who]))


def _orders(world: World, rng: np.random.Generator, who: np.ndarray, kind: np.ndarray, time: np.ndarray,
            second_device: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """The columns of orders placed by visitors `who` (kinds, times): value, refund, which vendors report them and
    when. `second_device`: placed on a device the visitor's touches never reached (only the hard identity world
    has such orders, simulator/identity.py), which no tracked click ties to its buyer."""
    v, t = world.visitors, world.touches
    m = len(who)
    on_own_device = np.ones(m, dtype=bool) if second_device is None else ~second_device
    revenue = np.where(kind == 0, np.round(rng.lognormal(SALE_LOG_MEAN, SALE_LOG_SD, m), 2), 0.0)
    refunded = (kind == 0) & (rng.random(m) < 0.06)
    refund_at = np.where(refunded, time + rng.integers(1 * DAY, 14 * DAY, m), np.iinfo(np.int64).max)

    # Which vendors report the conversion; every real conversion is reported by at least one.
    cm = rng.random(m) < 0.85
    # Integr8 only hears of conversions from visitors it tracked a click for (postback on its click), on the
    # device of that click.
    last_i8 = _last_flagged_touch(t["i8_observed"], v["touch_start"], v["touch_count"])[who]
    i8 = (last_i8 >= 0) & (kind < 2) & (rng.random(m) < 0.9) & on_own_device
    wm = (kind < 2) & (rng.random(m) < 0.75)
    cm |= ~(i8 | wm)
    i8_rejected = i8 & (rng.random(m) < 0.07)
    # A record may lack the order reference only where other identifiers still tie it to the order:
    # Integr8's click was also seen by ClickMagick (s2), or Webmarketer has the email ClickMagick has too.
    i8_linkable = cm & (last_i8 >= 0) & t["cm_observed"][np.maximum(last_i8, 0)]
    wm_linkable = cm & v["has_email"][who]
    cm_last_touch = _last_flagged_touch(t["cm_observed"], v["touch_start"], v["touch_count"])[who]
    orders = {
        "visitor": who,
        "kind": kind,
        "time": time,
        "revenue": revenue,
        "refund_at": refund_at,
        "cm": cm,
        "i8": i8,
        "wm": wm,
        "i8_click_touch": last_i8,
        "cm_last_touch": np.where(on_own_device, cm_last_touch, -1),
        "i8_rejected": i8_rejected,
        "i8_reason": rng.integers(0, len(REJECTION_REASONS), m),
        "i8_decided_at": time + rng.integers(2 * HOUR, 3 * DAY, m),
        "cm_visible_at": time + _delays(rng, m),
        "i8_visible_at": time + _delays(rng, m),
        "wm_visible_at": time + _delays(rng, m),
        "i8_ref_missing": (rng.random(m) < 0.08) & i8_linkable,
        "wm_ref_missing": (rng.random(m) < 0.05) & wm_linkable,
        "key": rng.integers(0, 2**63, m, dtype=np.int64),
        "key2": rng.integers(0, 2**63, m, dtype=np.int64),
    }
    if second_device is not None:
        orders["second_device"] = second_device
    return orders


def _add_repeat_orders(world: World) -> None:
    """The hard identity world's repeat orders (simulator/identity.py), drawn from their own stream and placed
    among the first orders in time order: every order after the first repeat is numbered anew."""
    rng = np.random.default_rng([world.seed, REPEAT_STREAM])
    first = world.conversions
    who, time, second_device = repeat_orders(first, rng, world.horizon_end)
    repeats = _orders(world, rng, who, np.zeros(len(who), dtype=first["kind"].dtype), time, second_device)
    first["second_device"] = np.zeros(len(first["time"]), dtype=bool)
    world.conversions = _in_time_order({k: np.concatenate([first[k], repeats[k]]) for k in repeats})


def _in_time_order(orders: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Orders sorted by time (stable), numbered in that order: the order number behind every order reference."""
    order = np.argsort(orders["time"], kind="stable")
    ordered = {k: a[order] for k, a in orders.items()}
    ordered["number"] = np.arange(len(order)) + 100_001
    return ordered


def _last_flagged_touch(flag: np.ndarray, starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Per visitor, the index of the last touch with `flag` set, or -1."""
    idx = np.where(flag, np.arange(len(flag)), -1)
    running = np.maximum.accumulate(idx)
    last = running[starts + counts - 1]
    return np.where(last >= starts, last, -1)


def _network_records(world: World, rng: np.random.Generator) -> None:
    """The affiliate network's (Integr8's) clicks, impressions, conversions and postbacks."""
    t, c = world.touches, world.conversions
    real = np.flatnonzero(t["i8_observed"])
    # Extra bot clicks that belong to no journey; Integr8 rejects them.
    n_bots = int(len(real) * 0.03)
    bot_times = EPOCH + rng.integers(0, HORIZON_DAYS * DAY, n_bots)
    touch = np.concatenate([real, np.full(n_bots, -1)])
    n = len(touch)
    ms = np.concatenate([t["time"][real], bot_times]) * 1000 + rng.integers(0, 1000, n)
    entropy = rng.integers(0, 2**63, n, dtype=np.int64)
    order = np.lexsort((entropy, ms))  # real_tx_id order: time first, then entropy
    touch, ms, entropy = touch[order], ms[order], entropy[order]
    time = ms // 1000
    is_bot = touch < 0
    campaign = np.where(is_bot, rng.choice(OFFER_CAMPAIGNS, n), t["campaign"][np.maximum(touch, 0)])
    world.i8_clicks = {
        "touch": touch,
        "time": time,
        "campaign": campaign,
        "is_bot": is_bot,
        "visible_at": time + _delays(rng, n, 0.02),
        "ms": ms,
        "entropy": entropy,
        "bot_ip": rng.integers(0x0B000000, 0xDF000000, n, dtype=np.int64),
    }
    # Map each touch to its Integr8 click row (for conversions and for the ids ClickMagick sees).
    click_of_touch = np.full(len(t["time"]), -1, dtype=np.int64)
    click_of_touch[touch[~is_bot]] = np.flatnonzero(~is_bot)
    world.touches["i8_click"] = click_of_touch

    # Impressions: ad views before tracked clicks, about 1.5 per click.
    n_imp = int(n * 1.5)
    src = rng.integers(0, n, n_imp)
    ms = (time[src] - rng.integers(60, 2 * DAY, n_imp)) * 1000 + rng.integers(0, 1000, n_imp)
    entropy = rng.integers(0, 2**63, n_imp, dtype=np.int64)
    order = np.lexsort((entropy, ms))
    order = order[ms[order] >= EPOCH * 1000]  # the world starts at EPOCH; so do its records
    src, ms, entropy = src[order], ms[order], entropy[order]
    world.i8_impressions = {
        "click": src,
        "time": ms // 1000,
        "campaign": campaign[src],
        "visible_at": ms // 1000 + _delays(rng, len(ms), 0.01),
        "ms": ms,
        "entropy": entropy,
    }

    conv = np.flatnonzero(c["i8"])
    m = len(conv)
    ms = c["time"][conv] * 1000 + rng.integers(0, 1000, m)
    entropy = rng.integers(0, 2**63, m, dtype=np.int64)
    order = np.lexsort((entropy, ms))
    conv, ms, entropy = conv[order], ms[order], entropy[order]
    world.i8_conversions = {
        "conversion": conv,
        "time": ms // 1000,
        "visible_at": c["i8_visible_at"][conv],
        "click": click_of_touch[c["i8_click_touch"][conv]],
        "ms": ms,
        "entropy": entropy,
        "payout": np.round(np.where(c["kind"][conv] == 0, c["revenue"][conv] * 0.08, 2.5), 2),
    }
    # One postback per conversion; a few fail and are retried a minute later.
    retry = rng.random(m) < 0.05
    pb_conv = np.concatenate([np.arange(m), np.flatnonzero(retry)])
    attempt = np.concatenate([np.ones(m, dtype=np.int64), np.full(int(retry.sum()), 2)])
    status = np.concatenate([np.where(retry, 500, 200), np.full(int(retry.sum()), 200)])
    sent = c["i8_visible_at"][conv][pb_conv] + np.where(attempt == 2, 60, 1)
    ms = sent * 1000 + rng.integers(0, 1000, len(pb_conv))
    entropy = rng.integers(0, 2**63, len(pb_conv), dtype=np.int64)
    order = np.lexsort((entropy, ms))
    world.i8_postbacks = {
        "i8_conversion": pb_conv[order],
        "attempt": attempt[order],
        "status": status[order],
        "time": ms[order] // 1000,
        "visible_at": ms[order] // 1000,
        "latency_ms": rng.integers(40, 900, len(pb_conv))[order],
        "ms": ms[order],
        "entropy": entropy[order],
    }


def _event_platform_records(world: World, rng: np.random.Generator) -> None:
    """The event platform's (Webmarketer's) trashed events and campaign outlays."""
    c = world.conversions
    n_wm = int(c["wm"].sum())
    n_trash = max(3, int(n_wm * 0.04))
    processed = EPOCH + rng.integers(0, HORIZON_DAYS * DAY, n_trash)
    order = np.argsort(processed, kind="stable")
    processed = processed[order]
    world.wm_trash = {
        "time": processed,
        "raw_time": processed - rng.integers(1, 5, n_trash),
        "brand": _choice(rng, BRAND_P, n_trash),
        "error": rng.integers(0, len(TRASH_ERRORS), n_trash),
        "kind": _choice(rng, [0.6, 0.4], n_trash),
        "key": rng.integers(0, 2**63, n_trash, dtype=np.int64),
        "key2": rng.integers(0, 2**63, n_trash, dtype=np.int64),
        "visible_at": processed,
    }

    # Outlays: the true spend of each Webmarketer campaign per UTC day, posted two hours after the
    # day ends; one in ten is edited one to five days later (the edit replaces the amount).
    t = world.touches
    paid = np.isin(t["campaign"], WM_CAMPAIGNS)
    day = (t["time"][paid] - EPOCH) // DAY
    wm_index = np.searchsorted(WM_CAMPAIGNS, t["campaign"][paid])
    spend = np.zeros((len(WM_CAMPAIGNS), int(day.max(initial=0)) + 1))
    np.add.at(spend, (wm_index, day), t["cost"][paid])
    camp, d = np.nonzero(spend)
    order = np.lexsort((camp, d))
    camp, d = camp[order], d[order]
    amount = np.round(spend[camp, d], 2)
    k = len(camp)
    created = EPOCH + (d + 1) * DAY + 2 * HOUR
    edited = rng.random(k) < 0.10
    edit_at = np.where(edited, created + rng.integers(1 * DAY, 5 * DAY, k), np.iinfo(np.int64).max)
    world.wm_outlays = {
        "wm_campaign": camp,
        "day": d,
        "amount": amount,
        "edited_amount": np.round(amount * rng.uniform(0.8, 1.2, k), 2),
        "created_at": created,
        "edit_at": edit_at,
        "visible_at": created,
        "key": rng.integers(0, 2**63, k, dtype=np.int64),
    }
