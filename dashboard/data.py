"""What the dashboard shows, read from the published snapshot (never the warehouse): one DataFrame per
view. A mart that is missing (nothing published yet) or empty gives an empty frame; the page shows an
empty state for it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

NO_BRAND = "(no brand)"  # spend of a campaign no credited conversion ties to a brand

QUERIES = {
    # 1. Overview, model comparison and campaigns are filtered in the page (date, brand, conversion kind,
    # channel), so the page gets their facts at the finest grain it filters on. Credit: per day, currency,
    # brand, conversion kind, model, channel and campaign.
    "credit": f"""
        select a.conversion_date as day, coalesce(a.currency, '(unknown)') as currency,
               coalesce(c.brand, '{NO_BRAND}') as brand, a.conversion_type as kind, a.attribution_model as model,
               a.channel, coalesce(a.campaign, '(no campaign)') as campaign, sum(a.credit) as conversions,
               coalesce(sum(a.credit) filter (where a.status = 'completed'), 0) as completed,
               sum(a.revenue_credit) as revenue
        from marts.attribution as a left join marts.conversions as c using (conversion_id)
        group by all order by all""",
    # Spend: the same under every model (one model's rows), per day, currency, channel and campaign; a campaign
    # belongs to the brand most of its credited conversions are of (spend carries no brand of its own), and
    # spend is never split by conversion kind.
    "spend": f"""
        with brands as (
            select campaign, first(brand order by credit desc, brand) as brand
            from (select a.campaign, c.brand, sum(a.credit) as credit
                  from marts.attribution as a join marts.conversions as c using (conversion_id)
                  where a.campaign is not null group by all)
            group by campaign)
        select p.day, coalesce(p.currency, '(unknown)') as currency, coalesce(b.brand, '{NO_BRAND}') as brand,
               p.channel, coalesce(p.campaign, '(no campaign)') as campaign, sum(p.spend) as spend
        from marts.channel_performance as p left join brands as b using (campaign)
        where p.spend <> 0 and p.attribution_model = (select min(attribution_model) from marts.channel_performance)
        group by all order by all""",
    # Each data-driven model's 90% share intervals, every currency together (for all data: no filter)
    "share_intervals": """
        select attribution_model as model, channel, share_low, share_high from marts.attribution_shares
        where currency = 'all' and share_low is not null order by all""",
    # 2. Paths
    "top_paths": """
        select case when path = '' then '(no observed touch)' else path end as path, path_length, conversions,
               non_conversions, journeys, conversion_rate
        from marts.paths where conversions > 0 order by conversions desc, path limit 25""",
    "path_flows": """
        select path, conversions, non_conversions from marts.paths
        where path <> '' order by journeys desc limit 60""",
    "channel_reach": """
        select channel, visitors, clicks, conversions, conversions_per_visitor
        from marts.channel_reach order by visitors desc, channel""",
    # 3. Vendors
    "reconciliation": """
        select vendor, currency, reported_conversions, orders_seen, orders_exclusive, deduplicated_orders,
               coverage, duplicate_records, reported_revenue, deduplicated_revenue, revenue_over_truth
        from marts.vendor_reconciliation order by currency, vendor""",
    "quality_by_day": """
        select day, check_name, sum(records) as records from marts.data_quality group by all order by day""",
    "coverage": """
        select count(*) as conversions, count(*) filter (where touches = 0) as touchless,
               min(conversion_date) as first_day, max(conversion_date) as last_day
        from marts.conversions""",
}


class SnapshotError(ValueError):
    """The snapshot cannot be read as a published DuckDB file."""


@dataclass
class DashboardData:
    snapshot: str
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    published_at: str | None = None
    built_iso: str | None = None  # when the snapshot was written, for the page's staleness check

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.frames[name]

    @property
    def models(self) -> list[str]:
        frame = self.frames["credit"]
        return sorted(frame["model"].unique()) if not frame.empty else []


def load(snapshot: str | Path, label: str | Path | None = None,
         duckdb_config: dict[str, Any] | None = None) -> DashboardData:
    """The frames of `snapshot` (shown on the page as `label`, e.g. where it will be once swapped in), read with
    DuckDB's settings `duckdb_config` (e.g. a memory limit) when given."""
    path = Path(snapshot)
    data = DashboardData(str(label or path))
    if not path.exists():
        data.frames = {name: pd.DataFrame() for name in QUERIES}
        return data
    built = pd.Timestamp(path.stat().st_mtime, unit="s", tz="UTC")
    data.published_at, data.built_iso = built.strftime("%Y-%m-%d %H:%M UTC"), built.isoformat()
    try:
        con = duckdb.connect(str(path), read_only=True, config=duckdb_config or {})
    except duckdb.Error as exc:
        raise SnapshotError(f"{path} is not a DuckDB snapshot the dashboard can read: {str(exc).splitlines()[0]}"
                            ) from exc
    with con:
        tables = {name for (name,) in con.execute(
            "select table_name from duckdb_tables() where schema_name = 'marts'").fetchall()}
        for name, sql in QUERIES.items():
            needed = {t for t in tables_in(sql)}
            data.frames[name] = con.execute(sql).df() if needed <= tables else pd.DataFrame()
    return data


def tables_in(sql: str) -> list[str]:
    return re.findall(r"\bmarts\.(\w+)", sql)
