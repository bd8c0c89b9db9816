"""The dbt model on a loaded sandbox warehouse, checked against the sandbox's ground truth and against
independent Python computations of the heuristic models and path transforms."""

from __future__ import annotations

import json
import os
import shutil
from collections import defaultdict
from datetime import UTC, datetime

import duckdb
import pytest
import yaml

from attribution.accuracy import accuracy, record_grouping, total_variation, true_shares
from pipelines.transform import (
    last_run_results,
    run_transforms,
    shared_parse,
)
from tests.truths import assert_warehouse_truths
from tests.warehouse import copy_warehouse, count, dbt, run_cli
from warehouse import Warehouse, as_warehouse
from warehouse.project import TRANSFORMS

HALF_LIFE_S = 7 * 86400


@pytest.fixture(scope="module")
def built(full_run, sandbox):
    assert "transforms   built" in full_run.stdout
    return full_run.warehouse, sandbox.control("GET", "truth/conversions")


def run_results(warehouse) -> list[dict]:
    """The results of the last dbt command against `warehouse` (in its own dbt target)."""
    return last_run_results(str(warehouse))["results"]


def rows(warehouse, sql, *params):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_deduplicated_conversions_equal_the_truth(built):
    warehouse, truth = built
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert_warehouse_truths(con, truth)


def test_every_vendor_record_is_grouped_with_its_order_and_its_person(built):
    """Pairwise against the truth's record ids, in the hard identity world (the default): the records of one
    order in one conversion and no other, the records of one person under one person_id, at the floors the
    issue sets (`make bench --only identity` prints the same scores at scale 5)."""
    warehouse, truth = built
    assert sum(len(line["records"]) for line in truth) > len(truth)  # orders that several vendors reported
    records = sum(len(line["records"]) for line in truth)
    grouping = record_grouping(str(warehouse), truth)
    assert grouping["found"] == (records, records), grouping  # every record the truth lists was loaded
    # stitching's recall is below 1 by design: a keyless record matched to its order by value alone has no
    # identifier that ties it to its person
    assert min(grouping["deduplication"]) >= 0.98 and min(grouping["stitching"]) >= 0.97, grouping


def test_touch_paths_equal_the_truths_observed_paths(built):
    warehouse, truth = built
    ours = defaultdict(list)
    for conversion, touched_at, channel, source, medium, campaign in rows(
        warehouse,
        "select conversion_id, touched_at, channel, source, medium, campaign "
        "from intermediate.int_journeys__assembled where conversion_id is not null "
        "order by conversion_id, touch_number",
    ):
        ours[conversion].append((iso(touched_at), channel, source, medium, campaign))
    # A journey holds the touches since the buyer's previous conversion (a repeat buyer's: the truth's path is every
    # touch before the order)
    previous, last = {}, {}
    for line in sorted(truth, key=lambda line: line["time"]):
        previous[line["order_ref"]], last[line["person"]] = last.get(line["person"], ""), line["time"]
    linked = repeated = 0
    for line in truth:
        both = any({"clickmagick", "integr8"} <= set(t["vendors"]) for t in line["path"])
        linkable = "integr8" in line["vendors"] or ("clickmagick" in line["vendors"] and both)
        wanted = [
            (t["time"], t["channel"], t["source"], t["medium"], t["campaign"])
            for t in line["path"]
            if t["vendors"] and (linkable or "clickmagick" in t["vendors"]) and t["time"] >= previous[line["order_ref"]]
        ]
        repeated += bool(previous[line["order_ref"]])
        assert ours.get(line["order_ref"], []) == wanted, line["order_ref"]
        linked += linkable
    assert linked > len(truth) / 3 and repeated > 0


def heuristic_credits(journey: list[tuple[str, str, float]]) -> dict[str, dict[str, float]]:
    """Independent credits for one path: (touch_id, channel, age in seconds) in time order."""
    n = len(journey)
    ids = [t[0] for t in journey]
    out: dict[str, dict[str, float]] = {
        m: defaultdict(float)
        for m in ("first_touch", "last_touch", "last_non_direct", "linear", "position_based", "time_decay")
    }
    out["first_touch"][ids[0]] += 1
    out["last_touch"][ids[-1]] += 1
    non_direct = [t[0] for t in journey if t[1] != "direct"]
    out["last_non_direct"][non_direct[-1] if non_direct else ids[-1]] += 1
    for i, touch in enumerate(ids):
        out["linear"][touch] += 1 / n
        out["position_based"][touch] += (
            1.0 if n == 1 else 0.5 if n == 2 else (0.4 if i in (0, n - 1) else 0.2 / (n - 2))
        )
    weights = [2 ** (-t[2] / HALF_LIFE_S) for t in journey]
    for touch, weight in zip(ids, weights, strict=True):
        out["time_decay"][touch] += weight / sum(weights)
    return out


def test_heuristic_models_match_an_independent_computation(built):
    warehouse, _ = built
    journeys = defaultdict(list)
    for conversion, touch, channel, age in rows(
        warehouse,
        "select conversion_id, touch_id, channel, epoch(ends_at) - epoch(touched_at) "
        "from intermediate.int_journeys__transformed where conversion_id is not null "
        "order by conversion_id, touch_number",
    ):
        journeys[conversion].append((touch, channel, age))
    mart = defaultdict(float)
    for conversion, model, touch, credit in rows(
        warehouse,
        "select conversion_id, attribution_model, touch_id, credit from marts.attribution "
        "where attribution_model in ('first_touch', 'last_touch', 'last_non_direct', 'linear', 'position_based', "
        "'time_decay') and touch_id is not null",
    ):
        mart[(conversion, model, touch)] += credit
    expected = {
        (conversion, model, touch): credit
        for conversion, journey in journeys.items()
        for model, credits in heuristic_credits(journey).items()
        for touch, credit in credits.items()
        if credit > 0
    }
    assert set(mart) == set(expected)
    for key, credit in expected.items():
        assert mart[key] == pytest.approx(credit, abs=1e-9), key


def transform(path: list[str], name: str) -> list[int]:
    """Indices kept by one path transform (Google's fractribution definitions)."""
    kind, _, target = name.partition(":")
    keep = list(range(len(path)))
    if kind == "exposure":
        keep = [i for i in keep if i == 0 or path[i] != path[i - 1]]
    elif kind == "first":
        keep = [i for i in keep if path[i] not in path[:i]]
    elif kind == "remove_if_not_all" and any(c != target for c in path):
        keep = [i for i in keep if path[i] != target]
    elif kind == "remove_if_last_and_not_all" and any(c != target for c in path):
        last = max(i for i, c in enumerate(path) if c != target)
        keep = keep[: last + 1]
    return keep


def test_a_seed_that_gained_a_column_does_not_fail_an_existing_warehouse(built, tmp_path):
    """An upgrade adds a column to a seed: the warehouse still holds the old table, and the build goes on.
    The build is on a copy of the warehouse (with its working state beside it): it keeps dbt's partial parse."""
    warehouse, _ = built
    copy = copy_warehouse(warehouse, tmp_path)
    with duckdb.connect(str(copy)) as con:
        con.execute("alter table reference.vendor_priorities drop column sees")
    result = run_transforms(str(copy), select="vendor_priorities")
    assert result.status == "built", result.detail
    assert rows(copy, "select count(sees) from reference.vendor_priorities")[0][0] > 0
    log = (as_warehouse(copy).dbt_dir() / "logs" / "dbt.log").read_text()
    assert "Unable to do partial parsing" not in log and "Partial parsing enabled" in log


def test_a_new_warehouse_starts_from_the_checkouts_last_parse(built, tmp_path):
    """A warehouse new to this checkout (the file alone: no dbt target of its own) parses partially, from the parse
    that the last build with the same profile left (the full run's); a full parse costs a build ~4 CPU-s more."""
    warehouse, _ = built
    assert shared_parse(as_warehouse(warehouse)).exists()
    new = tmp_path / "new" / warehouse.name
    new.parent.mkdir()
    shutil.copy(warehouse, new)
    result = run_transforms(str(new), select="vendor_priorities")
    assert result.status == "built", result.detail
    log = (as_warehouse(new).dbt_dir() / "logs" / "dbt.log").read_text()
    assert "Partial parsing enabled" in log and "saved manifest not found" not in log, log[:3000]


JOURNEYS = "int_journeys__assembled int_journeys__transformed"


@pytest.mark.parametrize(
    ("transforms", "select"),
    # Each kind alone is a unit test of int_journeys__transformed (transforms/models/intermediate); here on the
    # world's journeys, against the definitions above, chained so that each still changes paths (`exposure`
    # first: after `first` no channel repeats), and once with everything downstream: every model and test
    # takes transformed paths.
    [(["exposure", "remove_if_not_all:direct", "first"], JOURNEYS),
     (["remove_if_last_and_not_all:direct", "exposure"], "int_journeys__assembled+")],
)
def test_path_transforms_match_their_definitions(built, tmp_path, transforms, select):
    warehouse, _ = built
    copy = tmp_path / "wh.duckdb"
    copy.write_bytes(warehouse.read_bytes())
    result = run_transforms(
        str(copy),
        select=select,
        variables={"path_transforms": transforms, "path_lookback_days": 365},
    )
    assert result.status == "built", result.detail
    assembled = defaultdict(list)
    for journey, touch, channel in rows(
        copy,
        "select journey_id, touch_id, channel from "
        "intermediate.int_journeys__assembled order by journey_id, touch_number",
    ):
        assembled[journey].append((touch, channel))
    transformed = defaultdict(list)
    for journey, touch in rows(
        copy,
        "select journey_id, touch_id from intermediate.int_journeys__transformed order by journey_id, touch_number",
    ):
        transformed[journey].append(touch)
    changed = dict.fromkeys(transforms, 0)  # journeys each step of the chain changed
    for journey, touches in assembled.items():
        kept = touches
        for name in transforms:
            before = len(kept)
            kept = [kept[i] for i in transform([c for _, c in kept], name)]
            changed[name] += len(kept) < before
        assert transformed.get(journey, []) == [t for t, _ in kept], (journey, transforms)
    assert all(changed.values()), changed


def test_a_young_account_with_empty_tables_still_builds(young_run):
    """One hour of history: most tables get no rows, some nested tables do not exist yet."""
    assert "transforms   built" in young_run.stdout
    marts = {r[0] for r in rows(young_run.warehouse, "select table_name from information_schema.tables "
                                                     "where table_schema = 'marts'")}
    assert marts == {"conversions", "attribution", "attribution_shares", "channel_performance", "channel_reach",
                     "paths", "vendor_reconciliation", "data_quality"}
    empty = [table for (table,) in rows(young_run.warehouse, "select table_name from duckdb_tables() "
                                                             "where estimated_size = 0")]
    assert len(empty) >= 3, empty


def test_every_model_is_scored_against_the_worlds_causal_truth(built, sandbox):
    warehouse, _ = built
    scores = dict(accuracy(str(warehouse), sandbox.control("GET", "truth/channel_effects")))
    print("\ntotal-variation distance to the true channel shares:", {m: round(d, 3) for m, d in scores.items()})
    models = {m for m in rows(warehouse, "select distinct attribution_model from marts.attribution")}
    assert set(scores) == {m for (m,) in models}
    assert all(0.0 <= distance <= 1.0 for distance in scores.values())
    # Crediting one channel alone would be far off; every model spreads credit better than that.
    truth = true_shares(sandbox.control("GET", "truth/channel_effects"))
    worst_single = max(total_variation({channel: 1.0}, truth) for channel in truth)
    assert max(scores.values()) < worst_single


def test_attribution_shares_are_the_marts_own_with_intervals_for_every_fitted_model(built):
    """A share per model, channel and currency (and every currency together), equal to SQL over the attribution
    mart; a 90% interval for each data-driven model's share, none for the rules."""
    warehouse, _ = built
    shares = {(m, cur, ch): (share, low, high) for m, cur, ch, share, low, high in rows(
        warehouse, "select attribution_model, currency, channel, share, share_low, share_high "
                   "from marts.attribution_shares")}
    expected = {(m, cur, ch): credit for m, cur, ch, credit in rows(warehouse, """
        select attribution_model, case when grouping(currency) = 1 then 'all' else currency end, channel,
               sum(credit) / sum(sum(credit)) over (partition by attribution_model, grouping(currency), currency)
        from marts.attribution group by grouping sets ((attribution_model, currency, channel),
                                                        (attribution_model, channel))""")}
    assert {key: share for key, (share, _, _) in shares.items() if share > 0} == pytest.approx(expected, rel=1e-9)
    data_driven = set(yaml.safe_load((TRANSFORMS / "dbt_project.yml").read_text())["vars"]["attribution_models"]
                      ["data_driven"])
    for (model, currency, channel), (share, low, high) in shares.items():
        if model in data_driven and share > 0:
            assert low is not None and 0 <= low <= high <= 1, (model, currency, channel, low, high)
        elif model not in data_driven:
            assert low is None and high is None, (model, currency, channel)
    assert {m for (m, _, _), (_, low, _) in shares.items() if low is not None} == data_driven


def test_credit_is_inferred_only_by_the_conversion_model_for_journeys_seen_in_part(built):
    warehouse, _ = built
    by_model = dict(rows(warehouse, "select attribution_model, count(*) filter (where inferred) "
                                    "from marts.attribution group by all"))
    assert by_model.pop("shapley") > 0 and set(by_model.values()) == {0}
    assert count(warehouse, "select count(*) from marts.attribution where (touch_id is null) != inferred") == 0
    # only conversions ClickMagick did not report (their journey seen only through Integr8's links)
    assert count(warehouse, "select count(*) from marts.attribution a join marts.conversions c using (conversion_id) "
                            "where a.inferred and list_contains(c.vendors, 'clickmagick')") == 0


def test_every_mart_column_is_described(built):
    warehouse, _ = built
    spec = yaml.safe_load((TRANSFORMS / "models" / "marts" / "_marts.yml").read_text())
    described = {(m["name"], c["name"]) for m in spec["models"] for c in m.get("columns", []) if c.get("description")}
    columns = set(rows(warehouse, "select table_name, column_name from information_schema.columns "
                                  "where table_schema = 'marts'"))
    assert columns and not columns - described, sorted(columns - described)


def test_the_build_keeps_its_artifacts_beside_the_warehouse(built):
    """dbt's target is the warehouse's own (`.<file>.dbt/`): a second warehouse built from this checkout
    neither overwrites the run results nor throws away the partial parse."""
    warehouse, _ = built
    target = warehouse.with_name(f".{warehouse.name}.dbt") / "target"
    results = json.loads((target / "run_results.json").read_text())
    assert results["args"]["which"] == "build"
    assert results["results"] and {r["status"] for r in results["results"]} <= {"success", "pass", "no-op"}
    assert (target / "partial_parse.msgpack").exists()


def test_source_freshness_reads_each_loads_time(full_run, tmp_path):
    """Through `python -m pipelines.dbt`, as the README says to check freshness. On a copy: dbt opens its warehouse
    for writing, and the shared run's file lock then failed the tests reading it in other workers."""
    warehouse = full_run.copy_to(tmp_path)
    done = run_cli(["--warehouse", str(warehouse), "source", "freshness"], {**os.environ}, module="pipelines.dbt")
    assert done.returncode == 0, done.stdout[-3000:]
    spec = yaml.safe_load((TRANSFORMS / "models" / "staging" / "_sources.yml").read_text())
    checked = [t for source in spec["sources"] for t in source["tables"]
               if (t.get("config") or {}).get("freshness", "inherited") is not None]
    assert done.stdout.count(" PASS freshness of ") == len(checked) > 0, done.stdout[-3000:]


def test_unit_tests_run_here_and_not_in_the_runners_build(built, full_run, tmp_path):
    """dbt's unit tests check the models' logic on fixed inputs, not the data: the runner's scheduled build
    leaves them out, and here every one of them runs (on a copy: they read the built relations' columns)."""
    warehouse, _ = built
    runners = run_results(warehouse)
    assert runners and not [r for r in runners if r["unique_id"].startswith("unit_test.")]

    copy = full_run.copy_to(tmp_path)
    done = dbt(copy, "test", "--select", "test_type:unit")
    assert done.returncode == 0, done.stdout[-3000:]
    defined = [test["name"] for spec in TRANSFORMS.joinpath("models").rglob("*.yml")
               for test in (yaml.safe_load(spec.read_text()) or {}).get("unit_tests", [])]
    passed = sorted(r["unique_id"].rsplit(".", 1)[-1] for r in run_results(copy) if r["status"] == "pass")
    assert passed == sorted(defined) and len(defined) >= 10, done.stdout[-3000:]


def test_sums_are_checked_relative_to_their_magnitude(built, tmp_path):
    """Shops selling in IDR, VND or KRW reach totals in the billions: rounding there is not a lost credit (an
    absolute 1e-6 failed every build), while a real loss still is."""
    copy = copy_warehouse(built[0], tmp_path)
    check = "assert_channel_performance_keeps_every_credit"
    with duckdb.connect(str(copy)) as con:
        for rows_of in ("heuristic", "data_driven"):  # the tables under the `attribution` view
            con.execute(f"update intermediate.int_attribution__{rows_of}_joined "
                        "set revenue_credit = revenue_credit * 1e6")
        con.execute("update marts.channel_performance set revenue = revenue * 1e6")
        total = con.execute("select sum(revenue) from marts.channel_performance").fetchone()[0]
        assert total > 1e9
        con.execute("update marts.channel_performance set revenue = revenue + 1e-3 where revenue > 0 and "
                    "rowid = (select min(rowid) from marts.channel_performance where revenue > 0)")
    # at a memory limit below the file's size: dbt runs one node at a time (Warehouse.dbt_threads)
    small = Warehouse(str(copy), memory_limit=f"{copy.stat().st_size // 2**20 // 2}MiB")
    rounding = dbt(small, "test", "--select", check)
    assert rounding.returncode == 0, rounding.stdout
    assert "Concurrency: 1 threads" in rounding.stdout, rounding.stdout
    with duckdb.connect(str(copy)) as con:  # a lost credit of 1,000 in billions: a relative error of about 1e-7
        con.execute("update marts.channel_performance set revenue = revenue - 1000 where rowid = "
                    "(select min(rowid) from marts.channel_performance where revenue > 1000)")
    lost = dbt(small, "test", "--select", check)
    assert lost.returncode == 1 and f"Failure in test {check}" in lost.stdout, lost.stdout


def test_a_dbt_command_on_a_warehouse_not_built_is_one_line_and_makes_nothing(tmp_path):
    missing = tmp_path / "warehouse.duckdb"
    done = run_cli(["--warehouse", str(missing), "docs", "generate"], {**os.environ}, module="pipelines.dbt")
    assert done.returncode == 2 and f"{missing} does not exist yet" in done.stderr, done.stderr
    assert not missing.exists()


def test_a_build_that_runs_out_of_memory_names_the_model_the_cause_and_the_setting(built, tmp_path):
    """The run's summary carried dbt's "ERROR creating ... model" lines and not why (the cause is on the lines
    after dbt's "Runtime Error in model ..."): at scale 1350 the build failed in stitching with no reason given.
    Now each failed node and what DuckDB said, from dbt's run_results.json, and the setting that governs it."""
    copy = copy_warehouse(built[0], tmp_path)
    result = run_transforms(Warehouse(str(copy), memory_limit="2MB"), select="int_identity__edges", force=True)
    assert result.status == "failed", result
    assert result.detail.startswith("model int_identity__edges: Out of Memory Error:"), result.detail
    assert "[warehouse] memory_limit is 2MB" in result.detail, result.detail
