"""What the dashboard shows, read from the published snapshot (never the warehouse): one DataFrame per
view. A mart that is missing (nothing published yet) or empty gives an empty frame; the page shows an
empty state for it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

QUERIES = {
    # 1. Overview: per currency, model and channel (spend is the same under every model)
    "by_channel": """
        select currency, attribution_model, channel, sum(conversions) as conversions, sum(revenue) as revenue,
               sum(spend) as spend, sum(completed_conversions) as completed_conversions,
               sum(revenue) / nullif(sum(spend), 0) as roas,
               -- no known spend: no cost per acquisition (blank, not 0.00)
               case when sum(spend) > 0 then sum(spend) / nullif(sum(completed_conversions), 0) end as cpa
        from marts.channel_performance group by all order by currency, attribution_model, revenue desc""",
    "by_day": """
        select currency, attribution_model, day, channel, sum(revenue) as revenue, sum(conversions) as conversions,
               sum(completed_conversions) as completed_conversions, sum(spend) as spend
        from marts.channel_performance group by all order by day""",
    # 2. Model comparison: each channel's share of credited conversions (currency-free)
    "model_channels": """
        select currency, attribution_model, channel, sum(conversions) as conversions, sum(revenue) as revenue
        from marts.channel_performance group by all order by currency, attribution_model, channel""",
    "model_shares": """
        select attribution_model, channel,
               sum(credit) / sum(sum(credit)) over (partition by attribution_model) as share
        from marts.attribution group by attribution_model, channel order by channel, attribution_model""",
    # 3. Paths
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
    # 4. Vendors
    "reconciliation": """
        select vendor, currency, reported_conversions, orders_seen, orders_exclusive, deduplicated_orders,
               coverage, duplicate_records, reported_revenue, deduplicated_revenue, revenue_over_truth
        from marts.vendor_reconciliation order by currency, vendor""",
    "quality_by_day": """
        select day, check_name, sum(records) as records from marts.data_quality group by all order by day""",
    # 5. Campaigns
    "campaigns": """
        select attribution_model, coalesce(campaign, '(no campaign)') as campaign, channel, currency,
               sum(spend) as spend, sum(conversions) as conversions, sum(revenue) as revenue,
               sum(revenue) / nullif(sum(spend), 0) as roas,
               case when sum(spend) > 0 then sum(spend) / nullif(sum(completed_conversions), 0) end as cpa
        from marts.channel_performance group by all order by attribution_model, spend desc, revenue desc""",
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
        frame = self.frames["by_channel"]
        return sorted(frame["attribution_model"].unique()) if not frame.empty else []

    @property
    def currencies(self) -> list[str]:
        frame = self.frames["by_channel"]
        return sorted(frame["currency"].dropna().unique()) if not frame.empty else []


def load(snapshot: str | Path, label: str | Path | None = None) -> DashboardData:
    """The frames of `snapshot` (shown on the page as `label`, e.g. where it will be once swapped in)."""
    path = Path(snapshot)
    data = DashboardData(str(label or path))
    if not path.exists():
        data.frames = {name: pd.DataFrame() for name in QUERIES}
        return data
    built = pd.Timestamp(path.stat().st_mtime, unit="s", tz="UTC")
    data.published_at, data.built_iso = built.strftime("%Y-%m-%d %H:%M UTC"), built.isoformat()
    try:
        con = duckdb.connect(str(path), read_only=True)
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
    return [word.split(".", 1)[1] for word in sql.split() if word.startswith("marts.")]
