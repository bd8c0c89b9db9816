"""One self-contained HTML page: plotly.js inlined once, every figure and table embedded, a model selector
and sortable tables in a few lines of plain JavaScript. Nothing is fetched at build or view time."""

from __future__ import annotations

import html
import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from dashboard import figures
from dashboard.data import DashboardData
from dashboard.palette import channel_colour, channel_label
from warehouse.project import freshness_limit_hours

Format = Callable[[object], str]
KPI_DAYS = 7  # the headline's period, compared with the one before it

STYLE = """
body { font-family: system-ui, sans-serif; margin: 0 2rem 3rem; color: #222; }
header { display: flex; gap: 2rem; align-items: baseline; flex-wrap: wrap; }
section { margin-top: 2.5rem; }
h2 { border-bottom: 1px solid #ddd; padding-bottom: .3rem; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-size: .9rem; }
th, td { padding: .25rem .6rem; border-bottom: 1px solid #eee; text-align: right; }
th:first-child, td:first-child, td.text { text-align: left; }
table.sortable th { cursor: pointer; user-select: none; }
table.sortable th::after { content: " \\2195"; color: #aaa; }
table.sortable th[data-order="asc"]::after { content: " \\25B2"; color: #222; }
table.sortable th[data-order="desc"]::after { content: " \\25BC"; color: #222; }
a.csv { font-size: .85rem; }
.scroll { overflow-x: auto; }
.plotly-graph-div { max-width: 100%; overflow: hidden; }  /* a long title or legend never widens the page */
th { vertical-align: bottom; }
@media (max-width: 800px) {  /* a phone: one column, smaller margins */
  body { margin: 0 .6rem 2rem; } header { gap: .5rem; } h1 { font-size: 1.4rem; }
  .kpi { min-width: 40%; } table { font-size: .8rem; } .filters { position: static; } th, td { padding: .2rem .3rem; }
}
.empty { color: #777; font-style: italic; padding: 1rem; background: #f7f7f7; }
.note { color: #555; font-size: .9rem; overflow-wrap: anywhere; }
.stale { background: #fdecea; color: #8a1c12; padding: .5rem .8rem; border-radius: 4px; }
.kpis { display: flex; gap: 1rem; flex-wrap: wrap; margin: .5rem 0; }
.kpi { border: 1px solid #ddd; border-radius: 6px; padding: .5rem .9rem; min-width: 9rem; }
.kpi span { display: block; color: #555; font-size: .8rem; }
.kpi b { font-size: 1.3rem; }
.kpi .up { color: #1B7837; font-size: .85rem; margin-left: .4rem; }
.kpi .down { color: #B2182B; font-size: .85rem; margin-left: .4rem; }
tr.total td { font-weight: 600; border-top: 2px solid #ccc; }
.filters { display: flex; gap: .5rem 1.2rem; flex-wrap: wrap; align-items: center; position: sticky; top: 0;
  z-index: 10; background: #fff; padding: .6rem 0; border-bottom: 1px solid #ddd; }
.filters label { font-size: .9rem; }
"""

SCRIPT = (Path(__file__).parent / "page.js").read_text(encoding="utf-8")


def number(digits: int = 0) -> Format:
    def fmt(value: object) -> str:
        return "" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:,.{digits}f}"
    return fmt


def percent(value: object) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.1%}"


def empty(message: str) -> str:
    return f'<p class="empty">{html.escape(message)}</p>'


def figure(fig: go.Figure | None, message: str) -> str:
    if fig is None:
        return empty(message)
    # responsive: the chart follows the window's width (a phone, a resized window)
    return fig.to_html(full_html=False, include_plotlyjs=False, config={"displaylogo": False, "responsive": True})


def table(frame: pd.DataFrame, columns: dict[str, Format | None], message: str, *, sortable: bool = False,
          table_id: str | None = None) -> str:
    """An HTML table of `columns` (name -> number format, None for text). Numeric cells carry their raw
    value for sorting and the CSV download."""
    if frame.empty:
        return empty(message)
    head = "".join(f"<th>{html.escape(name.replace('_', ' '))}</th>" for name in columns)
    rows = []
    for record in frame.to_dict("records"):
        cells = []
        for name, fmt in columns.items():
            value = record[name]
            if fmt is None:
                cells.append(f'<td class="text">{html.escape("" if value is None else str(value))}</td>')
            else:
                raw = "" if value is None or (isinstance(value, float) and math.isnan(value)) else repr(float(value))
                cells.append(f'<td data-value="{raw or "-Infinity"}">{fmt(value)}</td>')
        rows.append(f"<tr>{''.join(cells)}</tr>")
    attrs = (f' id="{table_id}"' if table_id else "") + (' class="sortable"' if sortable else "")
    download = (f'<a class="csv" data-table="{table_id}" download="{table_id}.csv" href="#">Download CSV</a>'
                if table_id else "")
    return (f'<div class="scroll"><table{attrs}><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table></div>{download}")


def filtered_section(body_id: str) -> str:
    """A section the page's script draws from the embedded facts under the filters (dashboard/page.js)."""
    return f'<div id="{body_id}"></div>'


def overview() -> str:
    return ('<p class="note">Currencies are never added together: one block per currency. ROAS and CPA are blank '
            "where no spend is known (organic, direct, email without a cost source).</p>"
            + filtered_section("overview-body"))


def paths(data: DashboardData) -> str:
    top = table(data["top_paths"], {"path": None, "path_length": number(), "conversions": number(),
                                   "non_conversions": number(), "journeys": number(),
                                   "conversion_rate": percent},
                "No converting paths yet.", sortable=True, table_id="top-paths")
    return ("<h3>Top converting paths</h3>"
            '<p class="note">A conversion rate is shown only where every channel on the path also appears on a '
            "journey that did not convert: vendors show some channels' journeys only when they convert, and their "
            "rate would read 100% by construction (blank here).</p>" + top
            + figure(figures.path_sankey(data["path_flows"]), "No journeys with touches yet.") + reach(data))


def comparison(models: Sequence[str], default_model: str | None) -> str:
    """Two models side by side, as GA4's model comparison, then every model's channel shares (drawn in the page
    from the facts, so another pair or filter needs no rebuild)."""
    if len(models) < 2:
        return filtered_section("comparison")
    first = default_model if default_model in models else models[0]
    second = "last_touch" if "last_touch" in models and first != "last_touch" else next(m for m in models if m != first)
    return (f'<p><label>Compare {select("model-a", models, first)} with {select("model-b", models, second)}</label>'
            '</p><p class="note">Conversions and revenue each model credits to a channel, one table per currency; the '
            "change is from the first model to the second. In the shares chart below, the bars of each data-driven "
            "model carry its 90% interval (marts.attribution_shares: conversions redrawn, the model refitted) when "
            "no filter is set: the intervals are of all the data.</p>" + filtered_section("comparison"))


def select(control_id: str, values: Sequence[str], chosen: str | None, everything: str | None = None,
           labels: Callable[[str], str] = str) -> str:
    options = [f'<option value="">{html.escape(everything)}</option>'] if everything else []
    options += [f'<option value="{html.escape(v)}"{" selected" if v == chosen else ""}>{html.escape(labels(v))}'
                "</option>" for v in values]
    return f'<select id="{control_id}">{"".join(options)}</select>'


def filters(data: DashboardData, default_model: str | None) -> str:
    """The controls every filtered section follows; each lives in the URL (a link shares them, a reload keeps
    them). Without facts there is nothing to filter."""
    credit, spend = data["credit"], data["spend"]
    if credit.empty and spend.empty:
        return ""
    days = pd.concat([credit.get("day", pd.Series(dtype=object)), spend.get("day", pd.Series(dtype=object))])
    first, last = (pd.Timestamp(d).strftime("%Y-%m-%d") for d in (days.min(), days.max()))
    values = {name: sorted(set(credit.get(name, [])) | set(spend.get(name, []))) for name in ("brand", "channel")}
    kinds = sorted(set(credit.get("kind", [])))
    return (
        '<form id="filters" class="filters" onsubmit="return false">'
        f'<label>Model {select("model", data.models, default_model)}</label>'
        f'<label>From <input type="date" id="from" min="{first}" max="{last}" value="{first}"></label>'
        f'<label>to <input type="date" id="to" min="{first}" max="{last}" value="{last}"></label>'
        f'<label>Brand {select("brand", values["brand"], None, "all brands")}</label>'
        f'<label>Conversion kind {select("kind", kinds, None, "all kinds")}</label>'
        f'<label>Channel {select("channel", values["channel"], None, "all channels", channel_label)}</label>'
        '<button type="button" id="reset">Reset filters</button></form>'
        '<p class="note">The filters apply to the overview, the model comparison and the campaigns; paths, reach and '
        "vendors cover all data. Spend belongs to a campaign's brand (that of most of its credited conversions) and "
        'is never split by conversion kind.</p><p id="kind-note" class="note" hidden>With a conversion kind chosen, '
        "ROAS and CPA set that kind's revenue and conversions against all of the spend (as GA4's cost per "
        "conversion does).</p>")


def facts(data: DashboardData) -> str:
    """The filtered sections' facts as columns of dictionary codes (repeated names sent once), plus each
    channel's label and colour: the script's `FACTS`."""
    dims: dict[str, list[str]] = {}
    payload: dict[str, object] = {"dims": dims, "kpiDays": KPI_DAYS}
    for name in ("credit", "spend"):
        frame = data[name]
        columns: dict[str, list[object]] = {}
        for column in frame.columns:
            values = frame[column]
            if column == "day":
                values = pd.to_datetime(values).dt.strftime("%Y-%m-%d")
            if not pd.api.types.is_numeric_dtype(values):
                codes = dims.setdefault(column, [])
                index = {v: i for i, v in enumerate(codes)}
                for value in values.unique():
                    if value not in index:
                        index[value] = len(codes)
                        codes.append(value)
                columns[column] = [index[v] for v in values]
            else:
                columns[column] = [float(v) for v in values]  # exact: the page's sums equal SQL's
        payload[name] = columns
    payload["intervals"] = {
        model: {row.channel: [row.share_low, row.share_high] for row in rows.itertuples(index=False)}
        for model, rows in data["share_intervals"].groupby("model")} if not data["share_intervals"].empty else {}
    channels = dims.get("channel", [])
    payload["labels"] = {c: channel_label(c) for c in channels}
    payload["colours"] = {c: channel_colour(c) for c in channels}
    return json.dumps(payload, separators=(",", ":")).replace("</", "<\\/")  # never ends the script element


def reach(data: DashboardData) -> str:
    frame = data["channel_reach"]
    frame = frame.assign(channel=frame["channel"].map(channel_label)) if not frame.empty else frame
    return ("<h3>Reach: visitors and clicks per channel, converting or not</h3>"
            '<p class="note">From the trackers\' site-wide stats reports, which count every visitor; the journeys '
            "themselves are seen one by one only where a vendor reports them, so the paths' conversion rates above "
            "count only the non-converting journeys a vendor showed. Conversions per visitor is not the channel's "
            "effect: the data-driven models estimate that.</p>"
            + table(frame, {"channel": None, "visitors": number(), "clicks": number(), "conversions": number(),
                            "conversions_per_visitor": percent}, "No stats reports loaded yet.", sortable=True,
                    table_id="channel-reach"))


def vendors(data: DashboardData) -> str:
    reconciliation = table(data["reconciliation"], {
        "vendor": None, "currency": None, "reported_conversions": number(), "orders_seen": number(),
        "orders_exclusive": number(), "deduplicated_orders": number(), "coverage": percent,
        "duplicate_records": number(), "reported_revenue": number(2), "deduplicated_revenue": number(2),
        "revenue_over_truth": number(2)}, "No vendor has reported a conversion yet.", table_id="reconciliation")
    return ("<h3>Each vendor's view vs the de-duplicated orders</h3>" + reconciliation
            + figure(figures.quality_over_time(data["quality_by_day"]), "No data-quality issues recorded."))


def stale_note(data: DashboardData) -> str:
    """A warning the page shows when viewed past the sources' freshness limit after the data were built."""
    limit = freshness_limit_hours()
    if data.built_iso is None or limit is None:
        return ""
    return (f'<p id="stale" class="stale" hidden data-built="{html.escape(data.built_iso)}" '
            f'data-limit-hours="{limit:g}"></p>')


def coverage_note(data: DashboardData) -> str:
    frame = data["coverage"]
    if frame.empty or not frame["conversions"].iloc[0]:
        return ""
    row = frame.iloc[0]
    first, last = (pd.Timestamp(day).strftime("%Y-%m-%d") for day in (row.first_day, row.last_day))  # no times
    return (f'<p class="note">{int(row.conversions):,} conversions from {first} to {last}; '
            f"{int(row.touchless):,} had no observed touch and are reported apart, not credited.</p>")


def render(data: DashboardData, default_model: str | None) -> str:
    models = data.models
    selected = default_model if default_model in models else (models[0] if models else None)
    published = f"published {data.published_at}" if data.published_at else "nothing published yet"
    controls = filters(data, selected)
    if controls:
        sections = [
            ("overview", "Overview: revenue, conversions, spend, ROAS and CPA by channel and day", overview()),
            ("models", "Model comparison", comparison(models, selected)),
            ("campaigns", "Campaigns (click a column to sort)", filtered_section("campaigns-body")),
        ]
    else:
        sections = [
            ("overview", "Overview", empty("No conversions or spend yet: the overview fills in after the first "
                                           "successful run.")),
            ("models", "Model comparison", empty("No attributed conversions yet.")),
            ("campaigns", "Campaigns", empty("No campaigns yet.")),
        ]
    sections[2:2] = [("paths", "Paths", paths(data)),
                     ("vendors", "Vendors: reconciliation and data quality", vendors(data))]
    body = "".join(f'<section id="{key}"><h2>{html.escape(title)}</h2>{content}</section>'
                   for key, title, content in sections)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Marketing attribution</title>
<style>{STYLE}</style>
<script type="text/javascript">{get_plotlyjs()}</script>
<script type="text/javascript">const FACTS = {facts(data)};</script>
<script type="text/javascript">{SCRIPT}</script>
</head><body>
<header><h1>Marketing attribution</h1><span class="note">{html.escape(published)} &middot;
{html.escape(data.snapshot)}</span></header>
{stale_note(data)}
{coverage_note(data)}
{controls}
{body}
</body></html>
"""
