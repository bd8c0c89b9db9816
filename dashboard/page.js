// The dashboard's behaviour, offline: filters, the model pickers, the sections they drive, sortable tables and CSV
// downloads. The overview, the model comparison and the campaigns are computed here from FACTS (embedded by
// dashboard/page.py), so a filter or another model needs no rebuild; the other sections are rendered in Python.
'use strict';

const CONTROLS = ['model', 'a', 'b', 'from', 'to', 'brand', 'kind', 'channel'];  // each lives in the URL
const control = key => document.getElementById(key === 'a' || key === 'b' ? 'model-' + key : key);

// ---- facts: columns of dictionary codes, decoded once into rows
function decode(table) {
  const columns = Object.keys(table), rows = [];
  const n = columns.length ? table[columns[0]].length : 0;
  for (let i = 0; i < n; i++) {
    const row = {};
    columns.forEach(c => { const v = table[c][i]; row[c] = c in FACTS.dims ? FACTS.dims[c][v] : v; });
    rows.push(row);
  }
  return rows;
}
const CREDIT = decode(FACTS.credit), SPEND = decode(FACTS.spend);
const label = channel => FACTS.labels[channel] || channel;
const colour = channel => FACTS.colours[channel] || '#999999';

// ---- formats
function money(value, currency) {
  if (value === null || value === undefined || Number.isNaN(value)) return '';
  try {
    return value.toLocaleString('en-US', {style: 'currency', currency, minimumFractionDigits: 2});
  } catch (e) {  // not an ISO code: the number and the code as sent
    return value.toLocaleString('en-US', {minimumFractionDigits: 2, maximumFractionDigits: 2}) + ' ' + currency;
  }
}
function fixed(value, digits) {
  return value === null || value === undefined || Number.isNaN(value) ? '' :
    value.toLocaleString('en-US', {minimumFractionDigits: digits, maximumFractionDigits: digits});
}
function change(a, b) { return a ? ((b - a) / Math.abs(a) * 100).toFixed(1) + '%' : ''; }
const ratio = (a, b) => (b > 0 ? a / b : null);
const isoDay = date => date.toISOString().slice(0, 10);
const shiftDays = (day, days) => isoDay(new Date(Date.parse(day + 'T00:00:00Z') + days * 864e5));
const daysBetween = (from, to) => Math.round((Date.parse(to) - Date.parse(from)) / 864e5) + 1;

// ---- filters
function state() {
  const s = {};
  CONTROLS.forEach(key => { const el = control(key); s[key] = el ? el.value : ''; });
  s.datesChosen = new URLSearchParams(location.hash.slice(1)).has('from');
  return s;
}
function keep(s, from, to, byKind) {
  return r => r.day >= from && r.day <= to && (!s.brand || r.brand === s.brand) &&
    (!byKind || !s.kind || r.kind === s.kind) && (!s.channel || r.channel === s.channel);
}
// Credit of `model` (every model when null) and spend, filtered; spend is never split by conversion kind.
function filtered(s, model, from = s.from, to = s.to) {
  return {credit: CREDIT.filter(r => (model === null || r.model === model) && keep(s, from, to, true)(r)),
          spend: SPEND.filter(keep(s, from, to, false))};
}
function sums(rows, key, fields) {
  const out = new Map();
  rows.forEach(r => {
    const k = key(r), acc = out.get(k) || Object.fromEntries(fields.map(f => [f, 0]));
    fields.forEach(f => { acc[f] += r[f] || 0; });
    out.set(k, acc);
  });
  return out;
}
const CREDIT_FIELDS = ['conversions', 'completed', 'revenue'];
function performance(part, key) {
  // credit and spend met on `key` (as marts.channel_performance's full outer join)
  const credit = sums(part.credit, key, CREDIT_FIELDS), spend = sums(part.spend, key, ['spend']);
  const keys = new Set([...credit.keys(), ...spend.keys()]), rows = [];
  keys.forEach(k => {
    const c = credit.get(k) || {conversions: 0, completed: 0, revenue: 0}, sp = (spend.get(k) || {spend: 0}).spend;
    rows.push(withCosts({key: k, conversions: c.conversions, completed: c.completed, revenue: c.revenue, spend: sp}));
  });
  return rows;
}
function total(rows) {
  const t = {conversions: 0, completed: 0, revenue: 0, spend: 0};
  rows.forEach(r => Object.keys(t).forEach(f => { t[f] += r[f]; }));
  return withCosts(t);
}
// ROAS, and CPA on completed conversions; both blank (null) without spend
function withCosts(r) {
  return {...r, roas: ratio(r.revenue, r.spend), cpa: r.spend > 0 && r.completed ? r.spend / r.completed : null};
}
// One currency's part of filtered facts, and the currencies they hold: amounts never meet across currencies
function inCurrency(part, currency) {
  return {credit: part.credit.filter(r => r.currency === currency), spend: part.spend.filter(r => r.currency === currency)};
}
function currenciesOf(part) { return [...new Set([...part.credit, ...part.spend].map(r => r.currency))].sort(); }

// ---- DOM helpers
function element(tag, attrs = {}, text) {
  const el = document.createElement(tag);
  Object.entries(attrs).forEach(([k, v]) => { if (v !== undefined && v !== null) el.setAttribute(k, v); });
  if (text !== undefined) el.textContent = text;
  return el;
}
function empty(message) { return element('p', {class: 'empty'}, message); }
// columns: [name, format(row) -> text, value(row) -> number or null (a numeric cell)]
function table(id, columns, rows, totals, attrs = {}) {
  const t = element('table', {id, class: 'sortable', ...attrs});
  const head = t.createTHead().insertRow();
  columns.forEach(([name]) => head.appendChild(element('th', {}, name)));
  const body = t.createTBody();
  const fill = (tr, row) => columns.forEach(([, text, value]) => {
    const numeric = value !== undefined, v = numeric ? value(row) : null;
    tr.appendChild(element('td', numeric ? {'data-value': v === null || v === undefined ? '-Infinity' : String(v)} :
      {class: 'text'}, text(row)));
  });
  rows.forEach(row => { const tr = body.insertRow(); if (row.model) tr.dataset.model = row.model; fill(tr, row); });
  if (totals) { const tr = t.createTFoot().insertRow(); tr.className = 'total'; fill(tr, totals); }
  const scroll = element('div', {class: 'scroll'});
  scroll.appendChild(t);
  const csv = element('a', {class: 'csv', 'data-table': id, download: id + '.csv', href: '#'}, 'Download CSV');
  return [scroll, csv];
}
const PLOT_CONFIG = {displaylogo: false, responsive: true};
function plot(container, traces, layout) {
  const div = element('div', {class: 'plotly-graph-div chart'});
  container.appendChild(div);
  Plotly.newPlot(div, traces, {template: 'plotly_white', height: 380, margin: {l: 60, r: 20, t: 50, b: 40},
                               legend: {orientation: 'h', y: -0.2}, ...layout}, PLOT_CONFIG);
}

// ---- 1. Overview: per currency, KPIs, channels with totals, revenue by day with spend
function kpiPeriod(s) {
  // The dates chosen, else the last KPI_DAYS days of data; compared with the period of equal length before.
  const to = s.to, from = s.datesChosen ? s.from : shiftDays(to, -(FACTS.kpiDays - 1));
  const days = daysBetween(from, to);
  return {from, to, before: [shiftDays(from, -days), shiftDays(from, -1)], days};
}
function headline(s, currency) {
  const period = kpiPeriod(s);
  const of = (from, to) => {
    return total(performance(inCurrency(filtered(s, s.model, from, to), currency), () => ''));
  };
  const now = of(period.from, period.to), before = of(...period.before);
  const box = element('div', {class: 'kpis'});
  [['revenue', 'Revenue', v => money(v, currency)], ['conversions', 'Conversions', v => fixed(v, 1)],
   ['spend', 'Spend', v => money(v, currency)], ['roas', 'ROAS', v => fixed(v, 2)],
   ['cpa', 'CPA', v => money(v, currency)]].forEach(([key, title, fmt]) => {
    const card = element('div', {class: 'kpi', 'data-kpi': key, 'data-value': now[key] === null ? '' : now[key]});
    card.appendChild(element('span', {}, title));
    card.appendChild(element('b', {}, now[key] === null ? '—' : fmt(now[key])));
    if (now[key] !== null && before[key]) {
      const r = now[key] / before[key] - 1, better = key === 'cpa' ? r <= 0 : r >= 0;
      card.appendChild(element('span', {class: better ? 'up' : 'down'},
        (r >= 0 ? '▲ +' : '▼ ') + (r * 100).toFixed(1) + '%'));
    }
    box.appendChild(card);
  });
  const note = element('p', {class: 'note'}, `${period.from} to ${period.to} (${period.days} days${
    s.datesChosen ? ', the dates chosen' : ' of data'}), against the ${period.days} days before.`);
  return [box, note];
}
function channelRows(mine) {  // one currency's facts
  return performance(mine, r => r.channel)
    .map(r => ({...r, channel: r.key})).sort((x, y) => y.revenue - x.revenue || x.channel.localeCompare(y.channel));
}
function moneyColumns(currency) {
  return [['conversions', r => fixed(r.conversions, 1), r => r.conversions],
          ['revenue', r => money(r.revenue, currency), r => r.revenue],
          ['spend', r => money(r.spend, currency), r => r.spend],
          ['ROAS', r => fixed(r.roas, 2), r => r.roas],
          ['CPA', r => money(r.cpa, currency), r => r.cpa]];
}
function daily(container, mine, currency, model) {  // one currency's facts
  const credit = mine.credit.filter(r => r.conversions);
  const traces = [];
  [...new Set(credit.map(r => r.channel))].sort().forEach(channel => {
    const byDay = sums(credit.filter(r => r.channel === channel), r => r.day, ['revenue']);
    const days = [...byDay.keys()].sort();
    traces.push({type: 'bar', name: label(channel), marker: {color: colour(channel)}, x: days,
                 y: days.map(d => byDay.get(d).revenue),
                 hovertemplate: `%{fullData.name}<br>%{x|%b %-d, %Y}<br>%{y:,.2f} ${currency}<extra></extra>`});
  });
  const spend = sums(mine.spend, r => r.day, ['spend']);
  if ([...spend.values()].some(v => v.spend > 0)) {
    const days = [...spend.keys()].sort();
    traces.push({type: 'scatter', mode: 'lines', name: 'Spend', x: days, y: days.map(d => spend.get(d).spend),
                 line: {color: '#444444', dash: 'dot'},
                 hovertemplate: `Spend<br>%{x|%b %-d, %Y}<br>%{y:,.2f} ${currency}<extra></extra>`});
  }
  if (!traces.length) return;
  plot(container, traces, {barmode: 'stack', yaxis: {title: {text: currency}}, xaxis: {tickformat: '%b %-d'},
                           title: {text: `Attributed revenue by day and channel, with spend (${currency}, ${model})`}});
}
function renderOverview(s, part) {
  const out = document.getElementById('overview-body');
  out.replaceChildren();
  const currencies = currenciesOf(part);
  if (!currencies.length) {
    out.appendChild(empty(CREDIT.length || SPEND.length ? 'No conversions or spend match these filters.' :
      'No conversions or spend yet: the overview fills in after the first successful run.'));
    return;
  }
  currencies.forEach(currency => {
    out.appendChild(element('h3', {}, currency));
    const block = element('div', {class: 'block', 'data-currency': currency, 'data-model': s.model});
    headline(s, currency).forEach(el => block.appendChild(el));
    const mine = inCurrency(part, currency);
    const rows = channelRows(mine);
    table(`channels-${currency}`, [['channel', r => label(r.channel)], ...moneyColumns(currency)], rows,
          {...total(rows), channel: 'Total'}).forEach(el => block.appendChild(el));
    out.appendChild(block);
    daily(block, mine, currency, s.model);
  });
}

// ---- 2. Model comparison: two models per channel and currency (GA4's model comparison), then every model's shares
function renderComparison(s) {
  const out = document.getElementById('comparison');
  if (!out) return;
  out.replaceChildren();
  const part = filtered(s, null);
  const currencies = [...new Set(part.credit.map(r => r.currency))].sort();
  if (!currencies.length) out.appendChild(empty('No attributed conversions match these filters.'));
  currencies.forEach(currency => {
    const rows = new Map();
    part.credit.filter(r => r.currency === currency && (r.model === s.a || r.model === s.b)).forEach(r => {
      const row = rows.get(r.channel) || {channel: r.channel, ca: 0, cb: 0, ra: 0, rb: 0};
      if (r.model === s.a) { row.ca += r.conversions; row.ra += r.revenue; }
      if (r.model === s.b) { row.cb += r.conversions; row.rb += r.revenue; }
      rows.set(r.channel, row);
    });
    out.appendChild(element('h3', {}, currency));
    const sorted = [...rows.values()].sort((x, y) => y.ra - x.ra || x.channel.localeCompare(y.channel));
    const [scroll, csv] = table(`comparison-${currency}`, [
      ['channel', r => label(r.channel)],
      ['conversions ' + s.a, r => fixed(r.ca, 1), r => r.ca], ['conversions ' + s.b, r => fixed(r.cb, 1), r => r.cb],
      ['% change', r => change(r.ca, r.cb)],
      ['revenue ' + s.a, r => money(r.ra, currency), r => r.ra], ['revenue ' + s.b, r => money(r.rb, currency), r => r.rb],
      ['% change', r => change(r.ra, r.rb)]], sorted, null, {'data-currency': currency});
    scroll.querySelector('table').classList.add('comparison');
    scroll.querySelectorAll('tbody tr').forEach((tr, i) => {
      const r = sorted[i]; tr.dataset.values = JSON.stringify([r.ca, r.cb, r.ra, r.rb]);
    });
    out.appendChild(scroll); out.appendChild(csv);
  });
  // every model's share of the filtered conversions per channel
  const shares = sums(part.credit, r => r.model + '\u0000' + r.channel, ['conversions']);
  const perModel = sums(part.credit, r => r.model, ['conversions']);
  const models = [...perModel.keys()].sort(), channels = [...new Set(part.credit.map(r => r.channel))].sort();
  if (!models.length) return;
  const unfiltered = !s.brand && !s.kind && !s.channel && s.from === control('from').min && s.to === control('to').max;
  const traces = models.map(model => {
    const y = channels.map(c => ((shares.get(model + '\u0000' + c) || {conversions: 0}).conversions /
                                 perModel.get(model).conversions));
    const trace = {type: 'bar', name: model, x: channels.map(label), y,
                   hovertemplate: '%{fullData.name}<br>%{x}: %{y:.1%}<extra></extra>'};
    const bounds = FACTS.intervals[model];
    if (unfiltered && bounds) {  // the model's 90% interval, of all the data
      const of = (c, i) => (bounds[c] ? bounds[c][i] : null);
      trace.error_y = {type: 'data', symmetric: false, color: '#333333', thickness: 1,
                       array: channels.map((c, i) => (of(c, 1) === null ? 0 : of(c, 1) - y[i])),
                       arrayminus: channels.map((c, i) => (of(c, 0) === null ? 0 : y[i] - of(c, 0)))};
      trace.customdata = channels.map(c => [of(c, 0), of(c, 1)]);
      trace.hovertemplate = '%{fullData.name}<br>%{x}: %{y:.1%} (90% interval %{customdata[0]:.1%} to ' +
                            '%{customdata[1]:.1%})<extra></extra>';
    }
    return trace;
  });
  plot(out, traces, {barmode: 'group', height: 440, yaxis: {tickformat: '.0%', title: {text: 'share of credited conversions'}},
                     title: {text: "Each channel's share of the filtered conversions under every model"}});
}

// ---- 3. Campaigns: one table per currency for the chosen model
function renderCampaigns(s, part) {
  const out = document.getElementById('campaigns-body');
  out.replaceChildren();
  const currencies = currenciesOf(part);
  if (!currencies.length) out.appendChild(empty(CREDIT.length ? 'No campaigns match these filters.' : 'No campaigns yet.'));
  currencies.forEach(currency => {
    const rows = performance(inCurrency(part, currency), r => r.campaign + '\u0000' + r.channel)
      .map(r => { const [campaign, channel] = r.key.split('\u0000'); return {...r, campaign, channel, model: s.model}; })
      .sort((x, y) => y.spend - x.spend || y.revenue - x.revenue || x.campaign.localeCompare(y.campaign));
    out.appendChild(element('h3', {}, currency));
    table(`campaigns-${currency}`, [['campaign', r => r.campaign], ['channel', r => label(r.channel)],
                                    ...moneyColumns(currency)], rows, null).forEach(el => out.appendChild(el));
  });
}

// ---- the page's state: controls <-> URL, and every filtered section redrawn on a change
function fromUrl() {
  const params = new URLSearchParams(location.hash.slice(1));
  CONTROLS.forEach(key => {
    const el = control(key), wanted = params.get(key);
    if (!el || wanted === null) return;
    if (el.tagName === 'SELECT' ? Array.from(el.options).some(o => o.value === wanted) : wanted) el.value = wanted;
  });
}
function toUrl(key) {
  const params = new URLSearchParams(location.hash.slice(1));
  const el = control(key);
  if (key === 'from' || key === 'to') {  // a date chosen fixes both ends of the range
    params.set('from', control('from').value); params.set('to', control('to').value);
  } else if (el.value === '' ) params.delete(key); else params.set(key, el.value);
  history.replaceState(null, '', '#' + params.toString());
}
function render() {
  const s = state();
  document.getElementById('kind-note').hidden = !s.kind;
  const chosen = filtered(s, s.model);  // the chosen model's facts, filtered once for both sections
  renderOverview(s, chosen);
  renderComparison(s);
  renderCampaigns(s, chosen);
}
function resetFilters() {
  ['brand', 'kind', 'channel'].forEach(key => { control(key).value = ''; });
  control('from').value = control('from').min; control('to').value = control('to').max;
  const params = new URLSearchParams(location.hash.slice(1));
  ['from', 'to', 'brand', 'kind', 'channel'].forEach(key => params.delete(key));
  history.replaceState(null, '', '#' + params.toString());
  render();
}

// ---- tables rendered in Python or here: sort by a column, download as CSV
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
function csvOf(table) {
  const quote = text => /[",\n]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
  return Array.from(table.querySelectorAll('tr')).filter(r => !r.hidden).map(r => Array.from(r.children).map(c =>
    quote(c.dataset.value && c.dataset.value !== '-Infinity' ? c.dataset.value : c.textContent.trim())).join(','))
    .join('\n') + '\n';
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
document.addEventListener('click', event => {
  const th = event.target.closest('table.sortable th');
  if (th) sortBy(th);
  const link = event.target.closest('a.csv');
  if (link) link.href = 'data:text/csv;charset=utf-8,' + encodeURIComponent(csvOf(document.getElementById(link.dataset.table)));
});
document.addEventListener('DOMContentLoaded', () => {
  warnIfStale();
  if (!document.getElementById('filters')) return;
  fromUrl();
  CONTROLS.forEach(key => {
    const el = control(key);
    if (el) el.addEventListener('change', () => { toUrl(key); render(); });
  });
  document.getElementById('reset').addEventListener('click', resetFilters);
  render();
});
