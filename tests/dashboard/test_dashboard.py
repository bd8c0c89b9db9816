"""The dashboard in a real browser (Debian's Chromium driven by Playwright), offline: every section
renders, nothing is fetched, the model selector and sorting work, currencies stay apart, and a young
warehouse shows empty states instead of errors."""

from __future__ import annotations

import csv
import io
import os
import shutil
import time
from pathlib import Path

import duckdb
import pytest
from playwright.sync_api import Page, sync_playwright

from dashboard import build
from dashboard.palette import channel_colour, channel_label
from tests.warehouse import ROOT, run_cli
from warehouse.project import attribution_models
from warehouse.publication import SNAPSHOT

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"  # installed by `make setup`
SECTIONS = ["overview", "models", "paths", "vendors", "campaigns"]
ARTIFACTS = ROOT / "var" / "artifacts"  # screenshots a reviewer can look at after `make test`


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--no-first-run", "--disable-sync"])
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def snapshot(full_run):
    return full_run.published / SNAPSHOT


def open_offline(browser, html_file) -> tuple[Page, list[str], list[str]]:
    """The page from file://, with every other request refused and recorded, and console errors kept."""
    page = browser.new_page()
    fetched: list[str] = []
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))

    def refuse(route):
        fetched.append(route.request.url)
        route.abort()
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file://") else refuse(route))
    page.goto(html_file.as_uri())
    page.wait_for_load_state("load")
    return page, fetched, errors


def sql(snapshot, query):
    with duckdb.connect(str(snapshot), read_only=True) as con:
        return con.execute(query).fetchall()


def test_every_section_renders_offline_and_the_controls_work(browser, snapshot, tmp_path):
    html_file = build(snapshot, tmp_path / "dashboard.html")
    page, fetched, errors = open_offline(browser, html_file)
    assert fetched == [] and errors == []
    for section in SECTIONS:
        assert page.locator(f"section#{section}").count() == 1
        assert page.locator(f"section#{section} .empty").count() == 0, section
    assert page.locator(".plotly-graph-div .main-svg").count() >= 4  # plotly drew the charts
    assert page.locator("section#paths .sankey").count() == 1

    # The default is the first data-driven model; switching shows another model's rows only.
    default = attribution_models()["data_driven"][0]
    assert page.locator("#model").input_value() == default
    visible_models = "Array.from(document.querySelectorAll('#campaigns tbody tr')).filter(r => !r.hidden)" \
                     ".map(r => r.dataset.model)"
    assert set(page.evaluate(visible_models)) == {default}
    page.select_option("#model", "first_touch")
    assert set(page.evaluate(visible_models)) == {"first_touch"}

    # Overview: one block per currency, and its numbers are that currency's alone.
    currencies = [c for (c,) in sql(snapshot, "select distinct currency from marts.channel_performance order by 1")]
    assert page.locator("section#overview h3").all_inner_texts() == currencies
    for currency in currencies:
        (revenue,) = sql(snapshot, "select sum(revenue) from marts.channel_performance "
                                   f"where currency = '{currency}' and attribution_model = 'first_touch'")[0]
        shown = page.evaluate(f"""Array.from(document.querySelectorAll('#channels-{currency} tbody tr'))
            .reduce((total, r) => total + parseFloat(r.children[2].dataset.value), 0)""")
        assert shown == pytest.approx(revenue, rel=1e-9)

    # Sorting one currency's campaigns by spend, then again for the other direction: one table per currency.
    assert page.locator("section#campaigns h3").all_inner_texts() == currencies
    campaigns = f"table#campaigns-{currencies[0]}"
    header = page.locator(f"{campaigns} th", has_text="spend")
    spend = f"Array.from(document.querySelectorAll('{campaigns} tbody tr')).filter(r => !r.hidden)" \
            ".map(r => parseFloat(r.children[4].dataset.value))"
    header.click()
    ascending = page.evaluate(spend)
    assert ascending == sorted(ascending) and ascending[0] < ascending[-1]
    header.click()
    assert page.evaluate(spend) == sorted(ascending, reverse=True)
    assert errors == [] and fetched == []
    page.close()


def test_a_young_warehouse_shows_empty_states(browser, young_run, tmp_path):
    """One hour of history: the marts exist but hold (almost) nothing; and before any publication."""
    assert (young_run.published / SNAPSHOT).exists()
    for snapshot in (young_run.published / SNAPSHOT, tmp_path / "never" / SNAPSHOT):
        page, fetched, errors = open_offline(browser, build(snapshot, tmp_path / f"{snapshot.parent.name}.html"))
        assert fetched == [] and errors == []
        assert page.locator("section").count() == len(SECTIONS)
        assert page.locator(".empty").count() >= 3
        page.close()


def test_make_dashboard_reads_the_configured_publication(full_run, tmp_path):
    """`python -m dashboard` without --snapshot follows the runner's settings: `[publish] path`, else the
    directory beside the configured warehouse, as the runner publishes."""
    published = tmp_path / "pub"
    published.mkdir()
    shutil.copy(full_run.published / SNAPSHOT, published / SNAPSHOT)
    beside = tmp_path / "elsewhere" / "wh_published"
    beside.mkdir(parents=True)
    shutil.copy(full_run.published / SNAPSHOT, beside / SNAPSHOT)
    env = {**os.environ, "WAREHOUSE__LOCATION": str(tmp_path / "elsewhere" / "wh.duckdb")}
    for settings, directory in (({"PUBLISH__PATH": str(published)}, published), ({}, beside)):
        done = run_cli([], {**env, **settings}, module="dashboard")
        assert done.returncode == 0, done.stderr
        assert "does not exist" not in done.stderr
        assert done.stdout.strip() == f"dashboard: {directory / 'dashboard.html'}"
        assert (directory / "dashboard.html").stat().st_size > 1_000_000  # plotly.js inlined


def test_make_dashboard_without_a_readable_snapshot_is_one_line_and_fails(tmp_path):
    """It built an empty page and exited 0 for a snapshot that does not exist, and gave a traceback for a file
    that is no DuckDB database."""
    not_duckdb = tmp_path / "notes.duckdb"
    not_duckdb.write_text("these are notes, not a database\n")
    for snapshot, words in ((tmp_path / "nope.duckdb", "no published snapshot at"),
                            (not_duckdb, "is not a DuckDB snapshot the dashboard can read")):
        done = run_cli(["--snapshot", str(snapshot), "--out", str(tmp_path / "page.html")], dict(os.environ),
                       module="dashboard")
        assert done.returncode == 1 and done.stdout == ""
        assert done.stderr.startswith("error: ") and words in done.stderr and len(done.stderr.splitlines()) == 1, \
            done.stderr
        assert not (tmp_path / "page.html").exists()


COLOURS_ON_PAGE = """() => {
  const seen = [];
  document.querySelectorAll('.plotly-graph-div').forEach(div => (div.data || []).forEach(trace => {
    if (trace.type === 'bar' && typeof (trace.marker || {}).color === 'string') {
      seen.push([trace.name, trace.marker.color]);
    } else if (trace.type === 'sankey') {
      const colour = i => (trace.node.color || [])[i] || null;
      trace.node.label.forEach((label, i) => seen.push([label.replace(/^\\d+\\. /, ''), colour(i)]));
    }
  }));
  return seen;
}"""


def test_each_channel_has_one_colour_and_its_label_everywhere(browser, snapshot, tmp_path):
    """paid_search was orange in two currency blocks and cyan in the others; the Sankey matched nothing."""
    page, fetched, errors = open_offline(browser, build(snapshot, tmp_path / "dashboard.html"))
    assert fetched == [] and errors == []
    colours: dict[str, set[str]] = {}
    for label, colour in page.evaluate(COLOURS_ON_PAGE):
        colours.setdefault(label, set()).add(colour)
    channels = {channel_label(c) for (c,) in sql(snapshot, "select distinct channel from marts.channel_performance")}
    assert len(channels & set(colours)) >= 4, colours  # bars and Sankey nodes of several channels
    assert {label: len(found) for label, found in colours.items() if len(found) > 1} == {}
    assert {label: next(iter(found)) for label, found in colours.items() if label in channels} == {
        label: channel_colour(raw) for raw, label in ((c, channel_label(c)) for (c,) in sql(
            snapshot, "select distinct channel from marts.channel_performance")) if label in colours}
    assert "paid_search" not in page.locator("section#campaigns").inner_text()  # tables show labels too
    page.close()


def test_each_currency_has_headline_numbers_totals_and_no_cost_where_no_spend(browser, snapshot, tmp_path):
    """There were no headline numbers and no totals, and CPA read 0.00 for channels without spend."""
    page, fetched, errors = open_offline(browser, build(snapshot, tmp_path / "dashboard.html"))
    model = page.locator("#model").input_value()
    for (currency,) in sql(snapshot, "select distinct currency from marts.channel_performance"):
        (revenue, conversions, spend), = sql(snapshot, f"""
            with block as (select * from marts.channel_performance
                           where currency = '{currency}' and attribution_model = '{model}')
            select sum(revenue), sum(conversions), sum(spend) from block
            where day > (select max(day) from marts.channel_performance) - interval 7 day""")
        block = page.locator(f"xpath=//section[@id='overview']//h3[.='{currency}']/following-sibling::div"
                             f"[@data-model='{model}'][1]")
        shown = {kpi: float(block.locator(f".kpi[data-kpi={kpi}]").get_attribute("data-value"))
                 for kpi in ("revenue", "conversions", "spend")}
        assert shown == pytest.approx({"revenue": revenue, "conversions": conversions, "spend": spend}, rel=1e-9)
        (total,), = sql(snapshot, f"select sum(revenue) from marts.channel_performance where currency = "
                                  f"'{currency}' and attribution_model = '{model}'")
        footer = block.locator("tfoot tr.total td")
        assert footer.nth(0).inner_text() == "Total"
        assert float(footer.nth(2).get_attribute("data-value")) == pytest.approx(total, rel=1e-9)
        assert footer.nth(2).inner_text().replace(",", "").lstrip("A$€").startswith(f"{total:.2f}")  # with its symbol
        for row in block.locator("tbody tr").all():
            spend, roas, cpa = (row.locator("td").nth(i).get_attribute("data-value") for i in (3, 4, 5))
            if float(spend) == 0:  # no spend known: no ROAS, no CPA
                assert roas == cpa == "-Infinity", row.inner_text()
                assert row.locator("td").nth(4).inner_text() == row.locator("td").nth(5).inner_text() == ""
    assert fetched == [] and errors == []
    page.close()


def test_the_model_lives_in_the_url_tables_download_as_csv_and_show_their_sort(browser, snapshot, tmp_path):
    """The chosen model reset on reload; no table could be downloaded; the sort direction was not shown; and
    channel_reach was on no page."""
    page, fetched, errors = open_offline(browser, build(snapshot, tmp_path / "dashboard.html"))
    page.select_option("#model", "markov")
    assert page.url.endswith("#model=markov")
    page.reload()
    page.wait_for_load_state("load")
    assert page.locator("#model").input_value() == "markov"  # survives a reload, and a shared link
    assert {r for r in page.evaluate("Array.from(document.querySelectorAll('#campaigns tbody tr'))"
                                     ".filter(r => !r.hidden).map(r => r.dataset.model)")} == {"markov"}

    page.locator("#top-paths th", has_text="journeys").click()
    assert page.locator("#top-paths th[data-order]").evaluate(
        "th => getComputedStyle(th, '::after').content") == '" ▲"'
    with page.expect_download() as download:
        page.locator('a.csv[data-table="top-paths"]').click()
    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text())))
    shown = page.evaluate("Array.from(document.querySelectorAll('#top-paths tbody tr'))"
                          ".map(r => r.children[0].textContent)")
    assert rows[0][0] == "path" and [row[0] for row in rows[1:]] == shown  # as sorted on the page
    assert len(rows) - 1 == sql(snapshot, "select count(*) from (select 1 from marts.paths where conversions > 0 "
                                          "limit 25)")[0][0]

    reach = page.locator("table#channel-reach tbody tr")
    assert reach.count() == sql(snapshot, "select count(*) from marts.channel_reach")[0][0] > 0
    assert fetched == [] and errors == []
    page.close()


def test_two_models_side_by_side_per_channel_with_the_change(browser, snapshot, tmp_path):
    """The comparison was one chart of every model's shares that ignored the selector; analysts compare two
    models' conversions and revenue per channel, as in GA4."""
    page, fetched, errors = open_offline(browser, build(snapshot, tmp_path / "dashboard.html"))
    assert page.locator("#model-b").input_value() == "last_touch"
    page.select_option("#model-a", "linear")
    page.select_option("#model-b", "first_touch")
    assert "a=linear" in page.url and "b=first_touch" in page.url
    expected = {}
    for currency, channel, model, conversions, revenue in sql(snapshot, """
            select currency, channel, attribution_model, sum(conversions), sum(revenue)
            from marts.channel_performance where attribution_model in ('linear', 'first_touch') group by all"""):
        expected.setdefault((currency, channel_label(channel)), [0.0, 0.0, 0.0, 0.0])
        at = 0 if model == "linear" else 1
        expected[(currency, channel_label(channel))][at] += conversions
        expected[(currency, channel_label(channel))][at + 2] += revenue
    shown = page.evaluate("""Array.from(document.querySelectorAll('table.comparison tbody tr')).map(r =>
        [r.closest('table').dataset.currency, r.children[0].textContent, JSON.parse(r.dataset.values),
         r.children[6].textContent])""")
    got = {(currency, label): values for currency, label, values, _ in shown}
    assert set(got) == set(expected)
    for key, values in expected.items():
        assert got[key] == pytest.approx(values, rel=1e-9, abs=1e-9), key
    for _, _, (_, _, linear, first), text in shown:
        if linear:
            assert text == f"{(first - linear) / abs(linear) * 100:.1f}%"
    page.reload()
    page.wait_for_load_state("load")
    assert (page.locator("#model-a").input_value(), page.locator("#model-b").input_value()) == ("linear",
                                                                                               "first_touch")

    # Every model's shares; a data-driven model's bars carry its 90% interval from the mart, while nothing is
    # filtered (the intervals are of all the data).
    traces = "Array.from(document.querySelector('#comparison .plotly-graph-div').data).map(t => [t.name, t.x, t.y," \
             " t.error_y ? [t.error_y.arrayminus, t.error_y.array] : null])"
    intervals = {(model, channel_label(channel)): (low, high) for model, channel, low, high in sql(snapshot, """
        select attribution_model, channel, share_low, share_high from marts.attribution_shares
        where currency = 'all' and share_low is not null""")}
    with_bars = set()
    for model, labels, shares, bars in page.evaluate(traces):
        if bars is None:
            assert not any(key[0] == model for key in intervals), model
            continue
        with_bars.add(model)
        for label, share, minus, plus in zip(labels, shares, *bars, strict=True):
            if (model, label) in intervals:
                assert [share - minus, share + plus] == pytest.approx(intervals[model, label], abs=1e-9)
    assert with_bars == {model for model, _ in intervals} and with_bars
    page.select_option("#channel", "paid_search")
    assert all(bars is None for *_, bars in page.evaluate(traces))
    assert fetched == [] and errors == []
    page.close()


def test_filters_change_the_numbers_to_those_of_sql_for_the_filter_and_live_in_the_url(browser, snapshot, tmp_path):
    """There were no filters: not by date, brand, conversion kind (engagements with revenue 0 counted with sales)
    or channel. Spend's brand is checked against the campaigns' names (the sandbox names each after its brand),
    not against the page's own rule."""
    (first,), = sql(snapshot, "select min(day) + interval 10 day from marts.channel_performance")
    (last,), = sql(snapshot, "select max(day) - interval 5 day from marts.channel_performance")
    (brand,), = sql(snapshot, "select brand from marts.conversions group by 1 order by count(*) desc limit 1")
    frm, to = f"{first:%Y-%m-%d}", f"{last:%Y-%m-%d}"
    html_file = build(snapshot, tmp_path / "dashboard.html")
    page, fetched, errors = open_offline(browser, html_file)
    page.goto(f"{html_file.as_uri()}#model=linear&from={frm}&to={to}&brand={brand}&channel=paid_search")
    page.reload()  # state from a shared link
    page.wait_for_load_state("load")
    page.select_option("#kind", "sale")  # and from a control
    assert page.url.endswith(f"#model=linear&from={frm}&to={to}&brand={brand}&channel=paid_search&kind=sale")
    assert page.locator("#kind-note").is_visible()

    where = (f"a.conversion_date between '{frm}' and '{to}' and c.brand = '{brand}' and a.conversion_type = 'sale' "
             "and a.channel = 'paid_search'")
    credit = {currency: values for currency, *values in sql(snapshot, f"""
        select a.currency, sum(a.credit), sum(a.revenue_credit), coalesce(sum(a.credit) filter (
                   where a.status = 'completed'), 0)
        from marts.attribution as a join marts.conversions as c using (conversion_id)
        where a.attribution_model = 'linear' and {where} group by 1""")}
    spend = dict(sql(snapshot, f"""
        select currency, sum(spend) from marts.channel_performance
        where attribution_model = 'linear' and channel = 'paid_search' and day between '{frm}' and '{to}'
          and campaign like '{brand}-%' and spend <> 0 group by 1"""))
    assert credit and spend  # the filter leaves something to compare
    currencies = sorted(set(credit) | set(spend))
    assert page.locator("section#overview h3").all_inner_texts() == currencies
    for currency in currencies:
        conversions, revenue, completed = credit.get(currency, (0.0, 0.0, 0.0))
        cost = spend.get(currency, 0.0)
        footer = [float(v) for v in page.locator(f"#channels-{currency} tfoot td[data-value]").evaluate_all(
            "cells => cells.map(c => c.dataset.value === '-Infinity' ? 'nan' : c.dataset.value)")]
        assert footer[:3] == pytest.approx([conversions, revenue, cost], rel=1e-9, abs=1e-9)
        if cost and completed:
            assert footer[4] == pytest.approx(cost / completed, rel=1e-9)
        rows = page.locator(f"#channels-{currency} tbody tr td.text").all_inner_texts()
        assert rows == ["Paid search"]
        kpis = {k: page.locator(f".block[data-currency={currency}] .kpi[data-kpi={k}]").get_attribute("data-value")
                for k in ("revenue", "spend")}  # the dates chosen are the headline's period
        assert [float(kpis["revenue"]), float(kpis["spend"])] == pytest.approx([revenue, cost], rel=1e-9, abs=1e-9)

        campaigns = dict(sql(snapshot, f"""
            select a.campaign, sum(a.credit) from marts.attribution as a join marts.conversions as c
            using (conversion_id) where a.attribution_model = 'linear' and a.currency = '{currency}' and {where}
            group by 1"""))
        shown = dict(page.evaluate(f"""Array.from(document.querySelectorAll('#campaigns-{currency} tbody tr'))
            .map(r => [r.children[0].textContent, parseFloat(r.children[2].dataset.value)])"""))
        assert {k: v for k, v in shown.items() if v} == pytest.approx(
            {k or "(no campaign)": v for k, v in campaigns.items()}, rel=1e-9)

    # the comparison follows the filters too; the CSV of a filtered table is that table
    page.select_option("#model-a", "linear")
    page.select_option("#model-b", "first_touch")
    values = page.evaluate("Array.from(document.querySelectorAll('table.comparison tbody tr'))"
                           ".map(r => [r.closest('table').dataset.currency, JSON.parse(r.dataset.values)])")
    for currency, (linear, first_touch, linear_revenue, _) in values:
        assert [linear, linear_revenue] == pytest.approx(credit[currency][:2], rel=1e-9)
        (expected,), = sql(snapshot, f"""select sum(a.credit) from marts.attribution as a join marts.conversions
            as c using (conversion_id) where a.attribution_model = 'first_touch' and a.currency = '{currency}'
            and {where}""")
        assert first_touch == pytest.approx(expected or 0.0, rel=1e-9, abs=1e-9)
    table_id = f"channels-{currencies[0]}"
    with page.expect_download() as download:
        page.locator(f'a.csv[data-table="{table_id}"]').click()
    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text())))
    assert rows[0][:3] == ["channel", "conversions", "revenue"]
    rows_shown = f"#{table_id} tbody tr, #{table_id} tfoot tr"
    assert rows[1:] == page.evaluate(f"""Array.from(document.querySelectorAll('{rows_shown}')).map(r =>
        Array.from(r.children).map(c => c.dataset.value && c.dataset.value !== '-Infinity'
        ? c.dataset.value : c.textContent.trim()))""")

    page.click("#reset")  # every conversion again, in every currency
    assert "brand=" not in page.url and page.locator("section#overview h3").count() == len(
        sql(snapshot, "select distinct currency from marts.channel_performance"))
    assert fetched == [] and errors == []
    page.close()


def test_paths_give_a_conversion_rate_only_where_non_converting_journeys_are_seen(browser, snapshot, tmp_path):
    """paid_search converted at "100%" (9 of 9): its journeys are seen only when they convert."""
    page, fetched, errors = open_offline(browser, build(snapshot, tmp_path / "dashboard.html"))
    shown = dict(page.evaluate("Array.from(document.querySelectorAll('#top-paths tbody tr'))"
                               ".map(r => [r.children[0].textContent, r.children[5].textContent])"))
    observed = dict(sql(snapshot, "select case when path = '' then '(no observed touch)' else path end, "
                                  "non_conversions_observed from marts.paths where conversions > 0"))
    assert {observed[path] for path in shown} == {True, False}  # both kinds among the top paths
    for path, rate in shown.items():
        assert (rate != "") == observed[path], path
        assert rate != "100.0%" or observed[path], path
    assert "only where every channel on the path" in page.locator("section#paths").inner_text()
    assert fetched == [] and errors == []
    page.close()


@pytest.mark.parametrize("width", [1400, 390])
def test_no_table_scrolls_sideways_at_1400_px_and_a_phone_gets_one_column(browser, snapshot, tmp_path, width):
    """The vendors table was 1653 px wide in 1336. Screenshots of both widths are kept in var/artifacts/."""
    page, fetched, errors = open_offline(browser, build(snapshot, tmp_path / "dashboard.html"))
    page.set_viewport_size({"width": width, "height": 1000})
    page.wait_for_timeout(300)
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # the page itself never scrolls sideways
    if width == 1400:
        wide = page.evaluate("""Array.from(document.querySelectorAll('div.scroll')).filter(d => !d.closest('[hidden]'))
            .filter(d => d.scrollWidth > d.clientWidth + 1).map(d => d.querySelector('table').id)""")
        assert wide == []
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"dashboard-{width}px.png"), full_page=True)
    assert fetched == [] and errors == []
    page.close()


def test_data_older_than_the_freshness_limit_are_flagged_when_the_page_is_viewed(browser, snapshot, tmp_path):
    """The page said when it was published, never that the data had gone stale."""
    copy = tmp_path / SNAPSHOT
    shutil.copy(snapshot, copy)
    for age_hours, stale in ((1, False), (24 * 3, True)):
        moment = time.time() - age_hours * 3600
        os.utime(copy, (moment, moment))
        page, fetched, errors = open_offline(browser, build(copy, tmp_path / f"{age_hours}.html"))
        assert page.locator("#stale").is_visible() == stale
        if stale:
            assert page.locator("#stale").inner_text().startswith("These data were built 3 days ago, past the "
                                                                  "sources' freshness limit of 26 hours")
        assert fetched == [] and errors == []
        page.close()
