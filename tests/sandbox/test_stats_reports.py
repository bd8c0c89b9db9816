"""ClickMagick's stats reports over HTTP: asynchronous (202 with progress, then 200), figures that agree with
each other and with the world, and the cache that `refresh` and the last 24 hours bypass."""

from __future__ import annotations

import time

import httpx
import numpy as np

from simulator.world import BRANDS, EPOCH, generate
from tests.conftest import TEST_SCALE, TEST_SEED
from tests.sandbox.helpers import CM_KEY

PROJECT = BRANDS[0].cm_project_id
OLD = {"start_time": "2026-09-01T00:00:00Z", "end_time": "2026-09-20T00:00:00Z"}  # ended weeks before the clock


def create(client: httpx.Client, base: str, **form: str) -> int:
    body = client.post(f"{base}/v1/campaigns/projects/{PROJECT}/stats", data=form, headers=CM_KEY)
    return body.raise_for_status().json()["report_id"]


def read(client: httpx.Client, base: str, report_id: int) -> tuple[list[int], dict]:
    statuses = []
    while True:
        response = client.get(f"{base}/v1/campaigns/projects/stats/reports/{report_id}", headers=CM_KEY)
        statuses.append(response.status_code)
        if response.status_code == 200:
            return statuses, response.json()
        assert response.status_code == 202 and "percent" in response.json()["progress"]
        time.sleep(0.3)


def test_a_report_is_generated_then_read_and_its_figures_agree(sandbox):
    base = sandbox.vendor_url("clickmagick")
    with httpx.Client(timeout=30) as client:
        statuses, body = read(client, base, create(client, base, **OLD))
    assert statuses[0] == 202 and statuses[-1] == 200
    stats = body["stats"]
    days = stats["days"]
    assert days and {d["date"] for d in days} <= {f"2026-09-{n:02d}" for n in range(1, 20)}
    assert sum(d["clicks"] for d in days) == stats["clicks"]
    assert round(sum(d["cost"] for d in days), 2) == stats["cost"] > 0
    for dimension, rows in stats["dimensions"].items():
        assert sum(r["clicks"] for r in rows) == stats["clicks"], dimension
        # a visitor counts once per value, so the values add up to at least the total's distinct visitors
        assert sum(r["unique_clicks"] for r in rows) >= stats["unique_clicks"]
        assert all(r["unique_clicks"] <= r["clicks"] for r in rows)
    # Auto Cost covers the paid ad channels only.
    mediums = {r["value"]: r for r in stats["dimensions"]["utm_medium"]}
    assert mediums["cpc"]["cost"] > 0 and mediums["email"]["cost"] == 0 and mediums["affiliate"]["cost"] == 0


def test_the_figures_follow_the_world(sandbox):
    """Clicks are the touches ClickMagick tracked of the project's visitors in the window."""
    w = generate(seed=TEST_SEED, scale=TEST_SCALE)
    t = w.touches
    lo, hi = EPOCH, EPOCH + 19 * 86_400
    mine = (w.visitors["brand"][t["visitor"]] == 0) & (t["time"] >= lo) & (t["time"] < hi) & t["cm_observed"]
    base = sandbox.vendor_url("clickmagick")
    with httpx.Client(timeout=30) as client:
        _, body = read(client, base, create(client, base, **OLD))
    assert body["stats"]["clicks"] == int(mine.sum())
    assert body["stats"]["unique_clicks"] == len(np.unique(t["visitor"][mine]))


def test_old_windows_are_cached_unless_refreshed(fresh_sandbox):
    base = fresh_sandbox.vendor_url("clickmagick")
    recent = {"start_time": "2026-09-01T00:00:00Z", "end_time": "2026-12-01T00:00:00Z"}  # reaches the clock
    with httpx.Client(timeout=30) as client:
        first = create(client, base, **OLD)
        assert create(client, base, **OLD) == first
        assert create(client, base, **OLD, refresh="true") != first
        assert create(client, base, **recent) != create(client, base, **recent)
