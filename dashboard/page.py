"""One self-contained HTML page: plotly.js inlined once, every figure and table embedded, a model selector
and sortable tables in a few lines of plain JavaScript. Nothing is fetched at build or view time."""

from __future__ import annotations

import html
import json
import math
from collections.abc import Callable, Sequence

import pandas as pd
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from dashboard import figures
from dashboard.data import DashboardData
from dashboard.palette import channel_label
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
  .kpi { min-width: 40%; } table { font-size: .8rem; } th, td { padding: .2rem .3rem; }
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
"""

SCRIPT = """
function showModel(model) {
  document.querySelectorAll('[data-model]').forEach(el => {
    el.hidden = el.dataset.model !== model;
  });
  document.querySelectorAll('[data-model]:not([hidden]) .plotly-graph-div')
    .forEach(div => Plotly.Plots.resize(div));
}
function sortBy(th) {
  const table = th.closest('table'), body = table.tBodies[0];
  const column = Array.from(th.parentNode.children).indexOf(th);
  const ascending = th.dataset.order !== 'asc';
  table.querySelectorAll('th').forEach(h => delete h.dataset.order);
  th.dataset.order = ascending ? 'asc' : 'desc';
  const key = row => {
    const cell = row.children[column], value = cell.dataset.value;
    return value === undefined ? cell.textContent : parseFloat(value);
  };
  const rows = Array.from(body.rows).sort((a, b) => {
    const x = key(a), y = key(b);
    const order = (typeof x === 'number' && typeof y === 'number') ? x - y : String(x).localeCompare(String(y));
    return ascending ? order : -order;
  });
  rows.forEach(row => body.appendChild(row));
}
// Two models side by side per channel and currency, as GA4's model comparison: conversions and revenue under
// each, and the change from the first to the second. The rows come from COMPARISON, embedded in the page.
function cell(text, cls) { const td = document.createElement('td'); td.textContent = text; if (cls) td.className = cls;
  return td; }
function fmt(value, digits) { return value === null || value === undefined ? '' :
  value.toLocaleString('en-US', {minimumFractionDigits: digits, maximumFractionDigits: digits}); }
function change(a, b) { return a ? ((b - a) / Math.abs(a) * 100).toFixed(1) + '%' : ''; }
function renderComparison() {
  const a = document.getElementById('model-a').value, b = document.getElementById('model-b').value;
  const out = document.getElementById('comparison');
  out.replaceChildren();
  const currencies = [...new Set(COMPARISON.map(r => r.currency))].sort();
  currencies.forEach(currency => {
    const byChannel = new Map();
    COMPARISON.filter(r => r.currency === currency && (r.model === a || r.model === b)).forEach(r => {
      const row = byChannel.get(r.channel) || {label: r.label, ca: 0, cb: 0, ra: 0, rb: 0};
      if (r.model === a) { row.ca += r.conversions; row.ra += r.revenue; }
      if (r.model === b) { row.cb += r.conversions; row.rb += r.revenue; }
      byChannel.set(r.channel, row);
    });
    const heading = document.createElement('h3'); heading.textContent = currency; out.appendChild(heading);
    const table = document.createElement('table'); table.className = 'comparison'; table.dataset.currency = currency;
    const head = table.createTHead().insertRow();
    ['channel', 'conversions ' + a, 'conversions ' + b, '% change', 'revenue ' + a, 'revenue ' + b, '% change']
      .forEach(name => { const th = document.createElement('th'); th.textContent = name; head.appendChild(th); });
    const body = table.createTBody();
    [...byChannel.values()].sort((x, y) => y.ra - x.ra).forEach(r => {
      const tr = body.insertRow();
      [cell(r.label, 'text'), cell(fmt(r.ca, 1)), cell(fmt(r.cb, 1)), cell(change(r.ca, r.cb)),
       cell(fmt(r.ra, 2)), cell(fmt(r.rb, 2)), cell(change(r.ra, r.rb))].forEach(td => tr.appendChild(td));
      tr.dataset.values = JSON.stringify([r.ca, r.cb, r.ra, r.rb]);
    });
    const scroll = document.createElement('div'); scroll.className = 'scroll';
    scroll.appendChild(table); out.appendChild(scroll);
  });
}
function csvOf(table) {
  const quote = text => /[",\\n]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
  const rows = Array.from(table.querySelectorAll('tr')).filter(r => !r.hidden);
  return rows.map(r => Array.from(r.children).map(c => quote(c.dataset.value && c.dataset.value !== '-Infinity'
    ? c.dataset.value : c.textContent.trim())).join(',')).join('\\n') + '\\n';
}
function downloadCsv(link) {
  const table = document.getElementById(link.dataset.table);
  link.href = 'data:text/csv;charset=utf-8,' + encodeURIComponent(csvOf(table));
}
// The chosen models live in the URL (#model=...&a=...&b=...): a link shares them, a reload keeps them.
function fromUrl(select, key) {
  const wanted = new URLSearchParams(location.hash.slice(1)).get(key);
  if (wanted && Array.from(select.options).some(o => o.value === wanted)) select.value = wanted;
  select.addEventListener('change', () => {
    const params = new URLSearchParams(location.hash.slice(1));
    params.set(key, select.value);
    history.replaceState(null, '', '#' + params.toString());
  });
}
// Data older than the sources' freshness limit: say so at the top, computed when the page is viewed.
function warnIfStale() {
  const note = document.getElementById('stale');
  if (!note) return;
  const hours = (Date.now() - Date.parse(note.dataset.built)) / 3.6e6;
  if (hours > parseFloat(note.dataset.limitHours)) {
    note.textContent = 'These data were built ' + (hours >= 48 ? Math.floor(hours / 24) + ' days' :
      Math.floor(hours) + ' hours') + " ago, past the sources' freshness limit of " + note.dataset.limitHours +
      ' hours: has the scheduled run stopped?';
    note.hidden = false;
  }
}
document.addEventListener('DOMContentLoaded', () => {
  warnIfStale();
  const select = document.getElementById('model');
  if (select) {
    fromUrl(select, 'model');
    select.addEventListener('change', () => showModel(select.value));
    showModel(select.value);
  }
  ['a', 'b'].forEach(key => {
    const pick = document.getElementById('model-' + key);
    if (pick) { fromUrl(pick, key); pick.addEventListener('change', renderComparison); }
  });
  if (document.getElementById('comparison')) renderComparison();
  document.querySelectorAll('table.sortable th').forEach(th => th.addEventListener('click', () => sortBy(th)));
  document.querySelectorAll('a.csv').forEach(a => a.addEventListener('click', () => downloadCsv(a)));
});
"""


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
          table_id: str | None = None, row_model: str | None = None, totals: dict[str, object] | None = None) -> str:
    """An HTML table of `columns` (name -> number format, None for text). Numeric cells carry their raw
    value for sorting; `row_model` tags each row with its attribution model for the model selector; `totals`
    (column -> value) is a footer row, apart from the rows that sort."""
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
        model = f' data-model="{html.escape(str(record[row_model]))}"' if row_model else ""
        rows.append(f"<tr{model}>{''.join(cells)}</tr>")
    attrs = (f' id="{table_id}"' if table_id else "") + (' class="sortable"' if sortable else "")
    foot = ""
    if totals is not None:
        cells = [f'<td class="text">{html.escape(str(totals.get(name, "")))}</td>' if fmt is None
                 else f"<td>{fmt(totals.get(name))}</td>" for name, fmt in columns.items()]
        foot = f'<tfoot><tr class="total">{"".join(cells)}</tr></tfoot>'
    download = (f'<a class="csv" data-table="{table_id}" download="{table_id}.csv" href="#">Download CSV</a>'
                if table_id else "")
    return (f'<div class="scroll"><table{attrs}><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody>{foot}</table></div>{download}")


def per_model(models: Sequence[str], render: Callable[[str], str]) -> str:
    return "".join(f'<div data-model="{html.escape(m)}">{render(m)}</div>' for m in models)


def overview(data: DashboardData) -> str:
    if not data.currencies:
        return empty("No conversions or spend yet: the overview fills in after the first successful run.")
    by_channel, by_day = data["by_channel"], data["by_day"]
    parts = ['<p class="note">Currencies are never added together: one block per currency. ROAS and CPA are blank '
             "where no spend is known for the channel (organic, direct, email without a cost source).</p>"]
    for currency in data.currencies:
        def render(model: str, currency: str = currency) -> str:
            rows = by_channel[(by_channel["currency"] == currency) & (by_channel["attribution_model"] == model)]
            rows = rows.assign(channel=rows["channel"].map(channel_label))
            channels = table(rows, {"channel": None, "conversions": number(1), "revenue": number(2),
                                    "spend": number(2), "roas": number(2), "cpa": number(2)},
                             f"No {model} credit in {currency}.", totals=summed(rows, "Total"))
            return (headline(by_day, currency, model) + channels
                    + figure(figures.revenue_by_day(by_day, currency, model), f"No days in {currency}."))
        parts.append(f"<h3>{html.escape(currency)}</h3>" + per_model(data.models, render))
    return "".join(parts)


def summed(rows: pd.DataFrame, label: str) -> dict[str, object]:
    """Totals of a block of channel rows: conversions, revenue and spend added; ROAS and CPA of the sums."""
    spend, completed = rows["spend"].sum(), rows["completed_conversions"].sum()
    return {"channel": label, "conversions": rows["conversions"].sum(), "revenue": rows["revenue"].sum(),
            "spend": spend, "roas": rows["revenue"].sum() / spend if spend > 0 else None,
            "cpa": spend / completed if spend > 0 and completed else None}


def headline(by_day: pd.DataFrame, currency: str, model: str, days: int = KPI_DAYS) -> str:
    """The block's KPIs over its last `days` days of data, each with its change against the `days` before."""
    rows = by_day[(by_day["currency"] == currency) & (by_day["attribution_model"] == model)]
    if rows.empty:
        return ""
    end = pd.Timestamp(rows["day"].max())
    day = pd.to_datetime(rows["day"])
    current = summed(rows[day > end - pd.Timedelta(days=days)], "")
    previous = summed(rows[(day <= end - pd.Timedelta(days=days)) & (day > end - pd.Timedelta(days=2 * days))], "")
    cards = []
    for key, title, fmt in (("revenue", "Revenue", number(2)), ("conversions", "Conversions", number(1)),
                            ("spend", "Spend", number(2)), ("roas", "ROAS", number(2)), ("cpa", "CPA", number(2))):
        now, before = current[key], previous[key]
        change = ""
        if now is not None and before:
            ratio = float(now) / float(before) - 1
            better = ratio >= 0 if key != "cpa" else ratio <= 0  # a cost per acquisition that falls is good
            change = f'<span class="{"up" if better else "down"}">{"▲" if ratio >= 0 else "▼"} {ratio:+.1%}</span>'
        unit = f" {html.escape(currency)}" if key in ("revenue", "spend", "cpa") and now is not None else ""
        cards.append(f'<div class="kpi" data-kpi="{key}" data-value="{"" if now is None else float(now)!r}">'
                     f"<span>{title}</span><b>{fmt(now) or '&mdash;'}{unit}</b>{change}</div>")
    start = (end - pd.Timedelta(days=days - 1)).strftime("%b %-d")
    return (f'<div class="kpis">{"".join(cards)}</div><p class="note">{start} to {end:%b %-d, %Y} '
            f"(the last {days} days of data), against the {days} days before.</p>")


def paths(data: DashboardData) -> str:
    top = table(data["top_paths"], {"path": None, "path_length": number(), "conversions": number(),
                                   "non_conversions": number(), "journeys": number(),
                                   "conversion_rate": percent},
                "No converting paths yet.", sortable=True, table_id="top-paths")
    return ("<h3>Top converting paths</h3>" + top
            + figure(figures.path_sankey(data["path_flows"]), "No journeys with touches yet.") + reach(data))


def comparison(data: DashboardData, default_model: str | None) -> str:
    """Two models side by side (rendered in the page from the embedded rows, so picking another pair needs no
    rebuild), then every model's channel shares."""
    frame, models = data["model_channels"], data.models
    shares = figure(figures.model_comparison(data["model_shares"]), "No attributed conversions yet.")
    if frame.empty or len(models) < 2:
        return shares
    first = default_model if default_model in models else models[0]
    second = "last_touch" if "last_touch" in models and first != "last_touch" else next(m for m in models if m != first)

    def picker(key: str, chosen: str) -> str:
        options = "".join(f'<option value="{html.escape(m)}"{" selected" if m == chosen else ""}>{html.escape(m)}'
                          "</option>" for m in models)
        return f'<select id="model-{key}">{options}</select>'

    rows = [{"currency": r.currency, "model": r.attribution_model, "channel": r.channel,
             "label": channel_label(r.channel), "conversions": float(r.conversions), "revenue": float(r.revenue)}
            for r in frame.itertuples(index=False)]
    embedded = json.dumps(rows).replace("</", "<\\/")  # never ends the script element
    return (f'<p><label>Compare {picker("a", first)} with {picker("b", second)}</label></p>'
            '<p class="note">Conversions and revenue each model credits to a channel, one table per currency; the '
            "change is from the first model to the second.</p>"
            f'<div id="comparison"></div><script>const COMPARISON = {embedded};</script>' + shares)


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


def campaigns(data: DashboardData) -> str:
    """One sortable table per currency: amounts in two currencies never sort into one column."""
    frame = data["campaigns"]
    if frame.empty:
        return empty("No campaigns yet.")
    frame = frame.assign(channel=frame["channel"].map(channel_label))
    return "".join(
        f"<h3>{html.escape(currency)}</h3>"
        + table(rows, {"campaign": None, "channel": None, "spend": number(2), "conversions": number(1),
                       "revenue": number(2), "roas": number(2), "cpa": number(2)},
                f"No campaigns in {currency}.", sortable=True, table_id=f"campaigns-{currency}",
                row_model="attribution_model")
        for currency, rows in frame.groupby("currency", sort=True))


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
    options = "".join(f'<option value="{html.escape(m)}"{" selected" if m == selected else ""}>'
                      f"{html.escape(m)}</option>" for m in models)
    selector = f'<label>Attribution model <select id="model">{options}</select></label>' if models else ""
    published = f"published {data.published_at}" if data.published_at else "nothing published yet"
    sections = [
        ("overview", "Overview: revenue, conversions, spend, ROAS and CPA by channel and day", overview(data)),
        ("models", "Model comparison", comparison(data, selected)),
        ("paths", "Paths", paths(data)),
        ("vendors", "Vendors: reconciliation and data quality", vendors(data)),
        ("campaigns", "Campaigns (click a column to sort)", campaigns(data)),
    ]
    body = "".join(f'<section id="{key}"><h2>{html.escape(title)}</h2>{content}</section>'
                   for key, title, content in sections)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Marketing attribution</title>
<style>{STYLE}</style>
<script type="text/javascript">{get_plotlyjs()}</script>
<script type="text/javascript">{SCRIPT}</script>
</head><body>
<header><h1>Marketing attribution</h1><span class="note">{html.escape(published)} &middot;
{html.escape(data.snapshot)}</span>{selector}</header>
{stale_note(data)}
{coverage_note(data)}
{body}
</body></html>
"""
