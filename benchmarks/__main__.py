"""`make bench`: speed ratios measured in one run on this machine (never asserted in tests).

    python -m benchmarks [--cm-scale 40] [--export-rows 1000000] [--model-scale 117] [--accuracy-scale 5]
                         [--accuracy-seeds 7 11 23] [--accuracy-worlds default interactions ...]
                         [--accuracy-identity hard|easy]
                         [--identity-scale 5] [--lake-scale 5] [--push-scale 5] [--noop-scale 5] [--increment-scale 45]
                         [--scale 450] [--stages] [--memory-limit 512MB] [--spark-scale 45] [--quick] [--only NAME ...]

1. extraction: N ClickMagick sales through the pipeline vs a bare httpx loop over the same pages (target <= 1.5x)
2. no-op: wall time of an incremental run that finds nothing new
3. export: a 1,000,000-row Integr8 click export into DuckDB vs DuckDB alone reading the same zipped CSV,
   median of 5 alternating rounds (target <= 1.5x), and through the source's own resource (<= 1.2x); beside
   them DuckDB alone at the warehouse's own settings (memory limit, threads), printed without a target
4. attribution: dbt build time at scale S and 2S, by default about 50,000 and 100,000 conversions (target <= 2.2x)
5. markov: the removal-effect model at orders 1-4 on a 10,000-path, 12-channel summary (order 4 <= 2 s);
   Markov, simplified Shapley and the conversion model's Shapley at 100,000 distinct paths (<= 10 s each)
6. accuracy: every attribution model's total-variation distance to the sandbox's true channel shares
   (/_sim/truth/channel_effects) at scale 5, seeds 7, 11, 23, in every world variant of the sandbox
   (`serve --world`: default, interactions, position, dose, probit) (goal: the default data-driven model below
   every heuristic and below 0.10), and how often each data-driven model's 90% share interval
   (marts.attribution_shares) holds the true share (the default's: 80-98%); and, on the conversions seen whole,
   the default's distance beside that of the world's own causal model crediting the same journeys (what the
   data leave out, whatever the model); in the sandbox's default identity world (hard since 2026-12-05;
   `--accuracy-identity easy` for the one the figures before then were measured on)
6b. identity: in each identity world (`serve --identity`: easy, hard) at scale 5, the accuracy seeds: pairwise
   precision and recall of de-duplication and stitching against the truth's record ids (target on the hard
   world: de-duplication >= 0.98 each)
7. ducklake: a full run (extract, dbt build, publish) into a DuckLake with a Postgres catalog vs into the
   DuckDB file at scale 5 (target <= 1.5x)
8. push: pushing the outboxes (diff against the ledger, each answer journaled) vs the same payloads in a
   bare httpx loop, at scale 5, median of 5 alternating rounds (target <= 1.3x)
9. noop: the whole runner (every vendor, build check, publish) with nothing new at scale 5 (target <= 5 s),
   after a first full run
10. increment: the daily run's dbt build after one simulated day over the sandbox's ~45 days of history at scale 45
   vs a full build of the same data (target <= 0.15)
11. scale: a first full run at scale 450 (about 1.1M Integr8 clicks) as users run it (`python -m pipelines.run`),
   then the daily run after one simulated day: wall time and peak memory of each phase of the job (the extract
   process, with every vendor's extract, normalize and load side by side; the dbt build; the runner alone) (target
   <= 1.5 GiB, #32); `--stages` adds a second run stage by stage, one vendor at a time: which step holds what (no
   target: not the runner's path)
12. spill: the models that read every row of a large table (ClickMagick's credits, Integr8's clicks, the
   journeys) over 5M synthetic rows of real width at a 150-250 MB DuckDB limit (target: each builds)
13. spark: the dbt build of the scale-45 world on a local Spark cluster of 1 vs 2 workers (speed-up printed) and
   on DuckDB (printed, no target: a 2-core box favours DuckDB)
14. suite: `make test-slow` (the tier `make test` runs after the fast one), its wall time and the CPU time of the
   processes it started, by kind (dbt, Spark's JVMs, runners, sandboxes, test workers, ...): where the suite's
   time goes (target: `make test` under 10 minutes on 2 cores)
`--quick` runs the short versions (scale 45, model scale 20, 200,000 export rows, one accuracy seed, increment
and spark at scale 5), and leaves the suite out unless `--only` names it.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import dlt
import duckdb
import httpx
import numpy as np
import pandas as pd
import pyarrow.csv as pacsv

from attribution import conversion_model
from attribution.accuracy import accuracy, coverage, record_grouping
from attribution.datadriven import markov_attribution, shapley_attribution
from benchmarks.causal_reference import no_channel_spread, seen_whole_distances
from benchmarks.memory import PeakRss, RunnerPeaks, tree_memory
from benchmarks.spill import bench_spill
from benchmarks.suite import ROOT, run_suite
from destinations.common.push import outbox_rows
from destinations.common.spec import Skip
from pipelines.child import in_child
from pipelines.heap import release_memory, return_arrow_memory_promptly
from pipelines.pushes import run_pushes, use_sandbox_destinations
from pipelines.pushes import settings as destination_settings
from pipelines.registry import DESTINATIONS, SOURCES
from pipelines.run import run
from pipelines.spark import spark_step
from pipelines.transform import dbt_command, last_run_results, run_dbt, run_transforms
from pipelines.vendors import env_key, sandbox_settings, use_sandbox
from simulator.causal import WORLDS
from simulator.credentials import CREDENTIALS
from simulator.identity import DEFAULT_IDENTITY, IDENTITIES
from simulator.process import SandboxProcess, running_sandbox
from simulator.vendors.integr8 import clicks_table
from simulator.world import generate
from sources.clickmagick import clickmagick_source
from sources.clickmagick import settings as cm_settings
from sources.common.incremental import lookback_resource, utc, windows
from sources.integr8 import helpers as i8_helpers
from sources.integr8 import settings as i8_settings
from sources.integr8.exports import read_export
from warehouse import LOADER_FILE_FORMAT, Warehouse, make_pipeline
from warehouse.kinds import DEFAULT_MEMORY_LIMIT
from warehouse.local_postgres import running_postgres
from warehouse.project import attribution_models
from warehouse.spark_cluster import java_problem, local_cluster

START, END = "2026-09-01T00:00:00Z", "2026-10-17T00:00:00Z"
RESULTS: list[tuple[str, str]] = []
BENCHES = ["extraction", "export", "attribution", "markov", "accuracy", "identity", "ducklake", "push", "noop",
           "increment", "scale", "spill", "spark", "suite"]


def report(name: str, value: str) -> None:
    RESULTS.append((name, value))
    print(f"  {name:<58} {value}", flush=True)


def timed(fn, *args, **kwargs):
    started = time.perf_counter()
    out = fn(*args, **kwargs)
    return time.perf_counter() - started, out


def bare_clickmagick(base: str) -> int:
    """The same pages the source reads, fetched with a plain httpx loop and thrown away."""
    records = 0
    with httpx.Client(base_url=base, headers={"X-APIKEY": CREDENTIALS["clickmagick"]["api_key"]}, timeout=60) as client:
        for lo, hi in windows(utc(START), utc(END), timedelta(hours=cm_settings.DEFAULT_WINDOW_HOURS)):
            for kind in cm_settings.KINDS:
                for model in cm_settings.ATTRIBUTION_MODELS:
                    params = {"start_time": lo.strftime("%Y-%m-%dT%H:%M:%SZ"),
                              "end_time": hi.strftime("%Y-%m-%dT%H:%M:%SZ"), "limit": 100}
                    while True:
                        body = client.get(f"/v1/campaigns/{kind}/{model}", params=params).json()
                        records += len(body[kind])
                        if not body["cursor"]["next"]:
                            break
                        params["cursor"] = body["cursor"]["next"]
    return records


def bench_extraction(scale: float, work: Path) -> None:
    print(f"ClickMagick extraction (sandbox scale {scale}) ...", flush=True)
    with running_sandbox(seed=7, scale=scale) as sb:
        sales = sb.truth()["clickmagick"]["sales"]
        base = sb.vendor_url("clickmagick")
        bare_s, _ = timed(bare_clickmagick, base)
        pipeline = make_pipeline("clickmagick", work / "extract.duckdb")
        source = clickmagick_source(base_url=base, api_key=CREDENTIALS["clickmagick"]["api_key"],
                                    initial_start=START, end_time=END)
        pipe_s, _ = timed(pipeline.run, source, loader_file_format=LOADER_FILE_FORMAT)
        again = clickmagick_source(base_url=base, api_key=CREDENTIALS["clickmagick"]["api_key"],
                                   initial_start=START, end_time=END)
        noop_s, _ = timed(pipeline.run, again, loader_file_format=LOADER_FILE_FORMAT)
    report(f"bare httpx loop, {sales:,} sales x 5 models", f"{bare_s:7.2f} s")
    report("same pages through the dlt pipeline into DuckDB", f"{pipe_s:7.2f} s")
    report("ratio pipeline / bare loop (target <= 1.5)", f"{pipe_s / bare_s:7.2f} x")
    report("no-op incremental run (nothing new, 16-day lookback)", f"{noop_s:7.2f} s")


def click_export(rows: int) -> bytes:
    """A zipped Download Center click export of `rows` rows, as the sandbox writes it."""
    scale = rows / 2_400 + 1  # ~2,480 Integr8 clicks per unit of scale
    world = generate(7, scale)
    table = clicks_table(world, np.arange(min(rows, len(world.i8_clicks["time"]))), "UTC", world.clock)
    csv_buf = io.BytesIO()
    pacsv.write_csv(table, csv_buf)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.writestr("click_logs.csv", csv_buf.getvalue())
    return out.getvalue()


def bench_export(rows: int, work: Path, rounds: int = 5) -> None:
    """The export into DuckDB as the Integr8 source loads it vs DuckDB alone, each into a new warehouse,
    alternating for `rounds` rounds: the median ratio."""
    print(f"Integr8 export of {rows:,} clicks ...", flush=True)
    print(f"  Arrow's pool: {return_arrow_memory_promptly()} (as the runner's extract sets it)", flush=True)
    archive = click_export(rows)
    fields = list(i8_helpers.raw_schema("clicks", list(i8_helpers.settings.FIELDS["clicks"])).names)

    def duckdb_alone(target: Path, config: dict[str, Any] | None = None) -> int:
        with zipfile.ZipFile(io.BytesIO(archive)) as zf:
            csv_path = target.parent / "clicks.csv"
            csv_path.write_bytes(zf.read(zf.namelist()[0]))
        with duckdb.connect(str(target), config=config or {}) as con:
            con.execute("create or replace table clicks as select * from read_csv(?, header = true)", [str(csv_path)])
            return con.execute("select count(*) from clicks").fetchall()[0][0]

    def load_and_count(resource: Any, target: Path) -> int:
        make_pipeline("integr8_bench", target).run(resource, loader_file_format=LOADER_FILE_FORMAT)
        with duckdb.connect(str(target), read_only=True) as con:
            return con.execute("select count(*) from integr8_bench.clicks").fetchall()[0][0]

    def ours(target: Path) -> int:
        # The event tables' write disposition and hints, as sources/integr8 declares them.
        @dlt.resource(name="clicks", primary_key="real_tx_id", write_disposition=i8_settings.EVENT_WRITE_DISPOSITION,
                      columns=i8_helpers.column_hints("clicks", fields, "real_tx_id"))
        def clicks():
            yield from read_export(archive, "clicks", fields, ",", "UTC")

        return load_and_count(clicks(), target)

    def through_source(target: Path) -> int:
        # The source's own resource factory: dlt's incremental cursor, the change filter hashing every row,
        # the fingerprints loaded beside the rows (a first load: every row passes).
        spec = i8_settings.TABLES["clicks"]

        def read(begin, end):
            yield from read_export(archive, "clicks", fields, ",", "UTC")

        resource = lookback_resource("clicks", primary_key=spec.primary_key, cursor_field=spec.cursor, read=read,
                                     initial=utc("2020-01-01T00:00:00Z"), lookback=timedelta(hours=spec.lookback_hours),
                                     write_disposition=i8_settings.EVENT_WRITE_DISPOSITION,
                                     columns=i8_helpers.column_hints("clicks", fields, spec.primary_key))
        return load_and_count(resource, target)

    # The target compares with DuckDB at its own defaults (every core, 80% of memory); the warehouse loads within
    # `[warehouse] memory_limit` on `duckdb_threads()`: DuckDB alone at those too, printed beside it, no target.
    settings = Warehouse(str(work / "settings.duckdb")).duckdb_settings()
    print(f"  the warehouse's DuckDB settings: {settings}", flush=True)
    ratios, source_ratios, equal_settings_ratios = [], [], []
    for round_ in range(1, rounds + 1):
        folder = work / f"export-{round_}"
        folder.mkdir()
        base_s, base_rows = timed(duckdb_alone, folder / "alone.duckdb")
        equal_settings_s, equal_settings_rows = timed(duckdb_alone, folder / "alone-at-settings.duckdb", settings)
        ours_s, our_rows = timed(ours, folder / "ours.duckdb")
        source_s, source_rows = timed(through_source, folder / "source.duckdb")
        counts = (base_rows, equal_settings_rows, our_rows, source_rows)
        assert len(set(counts)) == 1, counts
        shutil.rmtree(folder)
        ratios.append(ours_s / base_s)
        source_ratios.append(source_s / base_s)
        equal_settings_ratios.append(source_s / equal_settings_s)
        report(f"round {round_}: DuckDB alone (unzip + read_csv) vs ours vs through the source, {base_rows:,} rows",
               f"{base_s:6.2f} s vs {ours_s:6.2f} s = {ours_s / base_s:4.2f} x vs {source_s:6.2f} s = "
               f"{source_s / base_s:4.2f} x (DuckDB alone at the warehouse's settings {equal_settings_s:6.2f} s)")
    report(f"ratio ours (zip -> Arrow -> dlt -> DuckDB) / DuckDB alone, median of {rounds} (target <= 1.5)",
           f"{float(np.median(ratios)):7.2f} x")
    report(f"ratio through the source's resource (+ cursor, change filter, fingerprints), median of {rounds} "
           "(target <= 1.2)", f"{float(np.median(source_ratios)):7.2f} x")
    report(f"ratio through the source's resource / DuckDB alone at the warehouse's settings, median of {rounds} "
           "(no target: what our path adds at equal settings)", f"{float(np.median(equal_settings_ratios)):7.2f} x")


def bench_attribution(scale: float, work: Path) -> None:
    seconds = {}
    for factor in (1, 2):
        s = scale * factor
        print(f"attribution build at scale {s} (loading the warehouse first) ...", flush=True)
        warehouse = work / f"model-{factor}.duckdb"
        with running_sandbox(seed=7, scale=s) as sb:
            use_sandbox(sb.url, list(SOURCES))
            summary = run(list(SOURCES), str(warehouse), transform=False)
            assert summary.status == "ok", summary
        seconds[factor], result = timed(run_transforms, str(warehouse))
        assert result.status == "built", result.detail
        with duckdb.connect(str(warehouse), read_only=True) as con:
            n = con.execute("select count(*) from marts.conversions").fetchall()[0][0]
        report(f"dbt build at scale {s} ({n:,} conversions)", f"{seconds[factor]:7.2f} s")
    report("ratio 2S / S (target <= 2.2)", f"{seconds[2] / seconds[1]:7.2f} x")


def bench_ducklake(scale: float, work: Path) -> None:
    """The same full run (extract, dbt build, publish) into the DuckDB file and into a DuckLake whose
    catalog is a throwaway Postgres, alternating, each against a fresh sandbox of the same world."""
    seconds: dict[str, float] = {}
    with running_postgres() as postgres:
        for kind in ("file", "ducklake"):
            print(f"full run into the {kind} at scale {scale} ...", flush=True)
            if kind == "file":
                warehouse = Warehouse(str(work / "full.duckdb"))
            else:
                warehouse = Warehouse(f"ducklake:postgres:{postgres.create_database('bench')}",
                                      data_path=f"{work / 'lake'}/", state_dir=str(work / "lake-state"))
            with running_sandbox(seed=7, scale=scale) as sb:
                use_sandbox(sb.url, list(SOURCES))
                seconds[kind], summary = timed(run, list(SOURCES), warehouse, publish_dir=str(work / f"pub-{kind}"),
                                               push=False)
            assert summary.status == "ok", summary
            loads = sum(v.seconds for v in summary.vendors)
            stages = f"(extract+load {loads:.1f} s, dbt {summary.transform.seconds:.1f} s)"
            report(f"full run at scale {scale} into the {kind}", f"{seconds[kind]:7.2f} s {stages}")
    ratio = seconds["ducklake"] / seconds["file"]
    report("ratio DuckLake (Postgres catalog) / file (target <= 1.5)", f"{ratio:7.2f} x")


def bare_push(warehouse: Warehouse, base: str) -> int:
    """The same payloads the push sends, posted with a plain httpx loop: no diff, no ledger, no retries."""
    calls = 0
    with warehouse.connect(read_only=True) as con, httpx.Client(timeout=60) as http:
        for name, spec in DESTINATIONS.items():
            config = destination_settings(name)
            client = spec.client(config)
            for outbox in spec.outboxes:
                for row in outbox_rows(con, outbox.model):
                    payload = None if row["skip_reason"] else client.payload(outbox, row)
                    if payload is None or isinstance(payload, Skip):
                        continue
                    if name == "improvely":
                        http.post(f"{base}/improvely/v1/conversion.json", data={**payload, "key": config["api_key"]})
                    else:
                        path = "people" if outbox.name == "people" else "event_logs"
                        http.post(f"{base}/convertloop/v1/{path}", json=payload,
                                  auth=(config["app_id"], config["api_key"]))
                    calls += 1
            client.close()
    return calls


def bench_push(scale: float, work: Path, rounds: int = 5) -> None:
    """Pushing the outboxes (diff, one call per row, each answer journaled and folded into the ledger) vs the
    same calls in a bare loop, each into a fresh sandbox of the same world; rounds alternate, median ratio."""
    print(f"push at scale {scale} (loading and building the warehouse first) ...", flush=True)
    built = Warehouse(str(work / "push-built.duckdb"))
    with running_sandbox(seed=7, scale=scale) as sb:
        use_sandbox(sb.url, list(SOURCES))
        summary = run(list(SOURCES), built, push=False, publish=False)
        assert summary.status == "ok", summary
    ratios = []
    for round_ in range(1, rounds + 1):
        warehouse = Warehouse(str(work / f"push-{round_}" / "push.duckdb"))  # an empty ledger each round
        warehouse.path.parent.mkdir()
        shutil.copy(built.path, warehouse.path)
        with running_sandbox(seed=7, scale=scale) as sb:
            use_sandbox_destinations(sb.url)
            bare_s, calls = timed(bare_push, warehouse, sb.url)
        with running_sandbox(seed=7, scale=scale) as sb:
            use_sandbox_destinations(sb.url)
            ours_s, results = timed(run_pushes, warehouse)
        assert all(r.status == "pushed" for r in results), results
        assert sum(r.sent for r in results) == calls, (results, calls)
        ratios.append(ours_s / bare_s)
        report(f"round {round_}: bare httpx loop vs push, {calls:,} calls",
               f"{bare_s:6.2f} s vs {ours_s:6.2f} s = {ours_s / bare_s:4.2f} x")
    report(f"ratio push / bare loop, median of {rounds} (target <= 1.3)", f"{float(np.median(ratios)):7.2f} x")


def sandbox_present(sb: Any) -> dict[str, str]:
    """Every vendor's `end_time` at the sandbox's clock. Runs read up to the vendor's present, which in production
    is now; the sandbox's present is its clock (weeks before today's date), and reading to today would add weeks
    of empty windows to every run."""
    clock = sb.control("GET", "clock")["clock"]
    return {env_key(vendor, "end_time"): clock for vendor in SOURCES}


def bench_noop(scale: float, work: Path) -> None:
    """A full run, then the same job again with nothing new at the vendors: the scheduled run's floor."""
    print(f"no-op run at scale {scale} (a full run first) ...", flush=True)
    warehouse = Warehouse(str(work / "noop.duckdb"))
    with running_sandbox(seed=7, scale=scale) as sb:
        use_sandbox(sb.url, list(SOURCES))
        with mock.patch.dict(os.environ, sandbox_present(sb)):
            first_s, first = timed(run, list(SOURCES), warehouse, push=False)
            assert first.status == "ok", first
            noop_s, noop = timed(run, list(SOURCES), warehouse, push=False)
            assert noop.status == "ok", noop
    loaded = sum(n for v in noop.vendors for n in v.rows.values())
    stages = ", ".join(f"{v.vendor} {v.seconds:.1f} s" for v in noop.vendors)
    assert noop.transform is not None
    stages += f", transforms {noop.transform.status} {noop.transform.seconds:.1f} s"
    report(f"first full run at scale {scale}", f"{first_s:7.2f} s")
    report(f"no-op run ({loaded} rows loaded; {stages}) (target <= 5 s)", f"{noop_s:7.2f} s")


def bench_increment(scale: float, work: Path) -> None:
    """The scheduled daily run's transform step vs a full build of the same data (#32: target <= 0.15): a first
    full run over the sandbox's history (about 45 days at the default world's clock), one simulated day, the
    daily run (extract, load, dbt build), then the same build forced again over the data as it now stands."""
    print(f"daily run after one simulated day at scale {scale} (a full run first) ...", flush=True)
    warehouse = Warehouse(str(work / "increment.duckdb"))
    with running_sandbox(seed=7, scale=scale) as sb:
        use_sandbox(sb.url, list(SOURCES))
        with mock.patch.dict(os.environ, sandbox_present(sb)):
            first_s, first = timed(run, list(SOURCES), warehouse, push=False)
        assert first.status == "ok", first
        sb.advance(24)
        with mock.patch.dict(os.environ, sandbox_present(sb)):
            daily_s, daily = timed(run, list(SOURCES), warehouse, push=False)
        assert daily.status == "ok" and daily.transform is not None and daily.transform.status == "built", daily
    daily_nodes = slowest_nodes(warehouse)
    # The same build again with nothing new loaded: what a daily build costs whatever the day brought (dbt's
    # start and its work per node, and the models still rebuilt from all history), the floor under the ratio.
    floor = run_transforms(warehouse, force=True)
    assert floor.status == "built", floor.detail
    floor_nodes = slowest_nodes(warehouse)
    full = run_transforms(warehouse, force=True, full_refresh=True)
    assert full.status == "built", full.detail
    report("the daily build's slowest nodes", daily_nodes)
    report("the same build with nothing new: slowest nodes", floor_nodes)
    report("the full build's slowest nodes", slowest_nodes(warehouse))
    with duckdb.connect(warehouse.location, read_only=True) as con:
        conversions = con.execute("select count(*) from marts.conversions").fetchone()[0]
    # dbt's own cost for this project: every model and test on no rows (--empty; it empties the models: last)
    empty_s, (code, output) = timed(run_dbt, dbt_command("build", "--empty", "--exclude-resource-type", "unit_test"),
                                    warehouse)
    assert code == 0, output[-3000:]
    report("dbt build --empty (every node on no rows: dbt's own cost)", f"{empty_s:5.1f} s; {slowest_nodes(warehouse)}")
    # dbt's start alone: the process, its imports, the project's manifest; no node runs (a lower bound on any build)
    start_s, (code, output) = timed(run_dbt, dbt_command("ls", "--resource-type", "model", "--quiet"), warehouse)
    assert code == 0, output[-3000:]
    loaded = sum(n for v in daily.vendors for n in v.rows.values())
    report(f"scale {scale} ({conversions:,} conversions): first full run; the daily run after 24 h "
           f"({loaded:,} rows loaded)", f"{first_s:7.1f} s; {daily_s:7.1f} s")
    report("the same build with nothing new (the floor) vs the full build",
           f"{floor.seconds:5.1f} s vs {full.seconds:5.1f} s = {floor.seconds / full.seconds:4.2f}")
    report("dbt's start alone (dbt ls: no node runs) and every node on no rows (--empty) vs the full build",
           f"{start_s / full.seconds:4.2f}; {empty_s / full.seconds:4.2f}")
    ratio = daily.transform.seconds / full.seconds
    report("daily run's dbt build vs a full build of the same data (target <= 0.15)",
           f"{daily.transform.seconds:5.1f} s vs {full.seconds:5.1f} s = {ratio:4.2f}: "
           f"{'met' if ratio <= 0.15 else 'NOT MET'}")


def slowest_nodes(warehouse: Warehouse, top: int = 6) -> str:
    """The last dbt build's threads, slowest models and tests, and all its models' and tests' time (threads
    overlap)."""
    results = last_run_results(warehouse)["results"]
    took = sorted(((r["execution_time"], r["unique_id"].split(".", 1)[0], r["unique_id"].rsplit(".", 1)[-1])
                   for r in results), reverse=True)
    totals = {kind: sum(t for t, k, _ in took if k == kind) for kind in ("model", "test")}
    threads = len({r["thread_id"] for r in results})  # dbt's threads follow the file's data (Warehouse.dbt_threads)
    return (f"{threads} dbt thread(s); models {totals['model']:.1f} s, tests {totals['test']:.1f} s; "
            + ", ".join(f"{name} {t:.1f}" for t, _, name in took[:top]))


def peak_line(label: str, seconds: float, rss: int, job: int, held: tuple[int, int]) -> str:
    return (f"    {label}: {seconds:.1f} s, peak {job / 2**20:,.0f} MiB ({rss / 2**20:,.0f} MiB RSS summed; "
            f"{held[1] / 2**20:,.0f} MiB held when it started)")


def extract_stage_by_stage(warehouse: Warehouse, skip: frozenset[int]) -> dict[str, float]:
    """Every vendor's extract, then normalize, then load, each step's wall time and the peak memory of the whole
    job printed (the process that called, whose child this runs in as the runner's extract does, and its
    descendants): the seconds of each stage."""
    seconds = dict.fromkeys(("extract", "normalize", "load"), 0.0)
    job = os.getppid()
    print(f"  Arrow's pool: {return_arrow_memory_promptly()} (as the runner's extract sets it)", flush=True)
    pipelines = {vendor: make_pipeline(vendor, warehouse) for vendor in SOURCES}
    steps = {
        "extract": lambda v: pipelines[v].extract(SOURCES[v].source(), loader_file_format=LOADER_FILE_FORMAT),
        "normalize": lambda v: pipelines[v].normalize(),
        "load": lambda v: pipelines[v].load(),
    }
    for stage, step in steps.items():
        for vendor in SOURCES:
            held = tree_memory(job, skip)
            with PeakRss(skip, root=job) as peak:
                took, _ = timed(step, vendor)
            release_memory()  # as the runner does after each step
            seconds[stage] += took
            print(peak_line(f"{vendor} {stage}", took, peak.bytes, peak.job, held), flush=True)
    return seconds


def runner_job(warehouse: Warehouse, sb: SandboxProcess) -> dict[str, dict[str, float]]:
    """A first full run as users run it (`python -m pipelines.run`: the vendors side by side in its extract
    process, then dbt, then the publication; no push): each phase's seconds and peak memory over the runner's
    whole tree (benchmarks/memory.py, RunnerPeaks), the sandbox not in it."""
    env = {**os.environ, **sandbox_settings(sb.url, list(SOURCES)), "DESTINATIONS__ENABLED": "false",
           "WAREHOUSE__MEMORY_LIMIT": warehouse.memory_limit, "PYTHONPATH": str(ROOT)}
    runner = subprocess.Popen([sys.executable, "-m", "pipelines.run", "--warehouse", warehouse.location], cwd=ROOT,
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    with RunnerPeaks(runner.pid) as peaks:
        output = runner.communicate()[0]
    if runner.returncode != 0:  # what the phases before the failure measured (bench_scale reports a run that passed)
        for phase, seen in peaks.phases.items():
            print(f"  {phase}: {seen['seconds']:.1f} s, peak {seen['job'] / 2**30:.2f} GiB", flush=True)
    assert runner.returncode == 0, output[-4000:]
    return peaks.phases


def bench_scale(scale: float, work: Path, memory_limit: str = DEFAULT_MEMORY_LIMIT, stages: bool = False) -> None:
    """A first full run at `scale` as users run it, then the daily run after one simulated day, each one's peak
    memory per phase of the job (the extract process with every vendor's extract, normalize and load side by side;
    dbt's build; the runner alone). Target (#32): <= 1.5
    GiB in every phase, at scale 450 and flat at 1350, judged on the job's memory (benchmarks/memory.py: the RSS
    sum would count the pages the forked child shares with the runner twice); both are printed. With `stages`,
    also a second run stage by stage (every vendor's extract, then normalize, then load, one vendor at a time,
    then the build): which vendor's step holds what, no target (it is not the runner's path: its vendors' steps
    run side by side)."""
    print(f"full run at scale {scale} as the runner runs it (starting the sandbox) ...", flush=True)
    warehouse = Warehouse(str(work / "scale.duckdb"), memory_limit=memory_limit)
    print(f"  DuckDB's memory_limit in the loads and the build: {memory_limit}", flush=True)
    with running_sandbox(seed=7, scale=scale) as sb:
        runs = {"first full run": runner_job(warehouse, sb)}
        report(f"scale {scale}: the build's slowest nodes", slowest_nodes(warehouse))
        # the scheduled run after it: its build takes the incremental paths (person-local models, diffed tables),
        # which a first run never does; scale 1350's ran out of memory there until 2026-12-06
        sb.advance(24)
        runs["daily run after 24 h"] = runner_job(warehouse, sb)
        report(f"scale {scale}: the daily build's slowest nodes", slowest_nodes(warehouse))
        if stages:
            stage_by_stage(Warehouse(str(work / "stages.duckdb"), memory_limit=memory_limit), sb, scale)
    with duckdb.connect(warehouse.location, read_only=True) as con:
        clicks, conversions = (con.execute(f"select count(*) from {t}").fetchone()[0]
                               for t in ("integr8.clicks", "marts.conversions"))
    for which, phases in runs.items():
        for phase, seen in phases.items():
            met = "met" if seen["job"] <= 1.5 * 2**30 else "NOT MET"
            report(f"scale {scale} ({clicks:,} Integr8 clicks, {conversions:,} conversions, memory_limit "
                   f"{memory_limit}), {which}: {phase} (target peak <= 1.5 GiB)",
                   f"{seen['seconds']:7.1f} s, peak {seen['job'] / 2**30:.2f} GiB "
                   f"({seen['rss'] / 2**30:.2f} GiB RSS summed): {met}")
        report(f"scale {scale}: {which}", f"{sum(seen['seconds'] for seen in phases.values()):7.1f} s")


def stage_by_stage(warehouse: Warehouse, sb: SandboxProcess, scale: float) -> None:
    """The same first run stage by stage in the runner's processes (the loads in a forked child that ends before
    dbt starts), each vendor's step alone: printed, no target."""
    print(f"  scale {scale} stage by stage, vendors one at a time (no target: not the runner's path) ...", flush=True)
    use_sandbox(sb.url, list(SOURCES))
    skip = frozenset({sb.proc.pid})
    seconds = in_child(extract_stage_by_stage, warehouse, skip)
    held = tree_memory(os.getpid(), skip)
    with PeakRss(skip) as peak:
        took, result = timed(run_transforms, warehouse)
    assert result.status == "built", result.detail
    print(peak_line("dbt build", took, peak.bytes, peak.job, held), flush=True)
    print(f"    stage by stage: {sum(seconds.values()) + took:.1f} s in all", flush=True)


def random_path_summary(paths: int, channels: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    names = [f"channel_{i}" for i in range(channels)]
    unique: set[str] = set()
    while len(unique) < paths:
        unique.add(" > ".join(rng.choice(names, rng.integers(1, 8))))
    n = len(unique)
    return pd.DataFrame({"path": sorted(unique), "conversions": rng.integers(0, 5, n).astype(float),
                         "value": rng.random(n) * 100, "nulls": rng.integers(0, 20, n).astype(float)})


def bench_markov() -> None:
    paths = random_path_summary(10_000, 12)
    for order in (1, 2, 3, 4):
        seconds, _ = timed(markov_attribution, paths, order=order)
        target = " (target <= 2 s)" if order == 4 else ""
        report(f"Markov order {order}, 10,000 paths x 12 channels{target}", f"{seconds:7.2f} s")
    big = random_path_summary(100_000, 12)
    seconds, _ = timed(markov_attribution, big, order=1)
    report("Markov order 1, 100,000 distinct paths x 12 channels (target <= 10 s)", f"{seconds:7.2f} s")
    seconds, _ = timed(shapley_attribution, big)
    report("simplified Shapley, 100,000 distinct paths x 12 channels (target <= 10 s)", f"{seconds:7.2f} s")
    # The default model: fit and credit 100,000 conversions, one per distinct path (touches per channel).
    rows = big["path"].str.split(" > ").explode().rename("channel").reset_index()
    journeys = rows.groupby(["index", "channel"]).size().rename("touches").reset_index()
    journeys = journeys.rename(columns={"index": "conversion_id"}).astype({"conversion_id": str})
    reach = journeys.groupby("channel")["conversion_id"].nunique() * 5
    exposure = pd.DataFrame({"channel": reach.index, "visitors": reach.to_numpy()})
    visitors, clicks = float(reach.sum()), float(journeys["touches"].sum() * 5)

    def fit_and_credit() -> pd.DataFrame:
        return conversion_model.shapley_credit(conversion_model.fit(journeys, exposure, visitors, clicks, 1.0),
                                               journeys)

    seconds, _ = timed(fit_and_credit)
    report("Shapley of the conversion model, fit and credit 100,000 conversions x 12 channels (target <= 10 s)",
           f"{seconds:7.2f} s")


@contextlib.contextmanager
def sandbox_after_full_run(warehouse: Path, seed: int, scale: float, **world: str) -> Iterator[SandboxProcess]:
    """A sandbox of that world (`world`: its `world` and `identity`), once every vendor has been run into
    `warehouse` from it (no publish, no push)."""
    with running_sandbox(seed=seed, scale=scale, **world) as sb:
        use_sandbox(sb.url, list(SOURCES))
        summary = run(list(SOURCES), str(warehouse), publish=False, push=False)
        assert summary.status == "ok", summary
        yield sb


def bench_accuracy(scale: float, seeds: list[int], worlds: list[str], work: Path, identity: str = DEFAULT_IDENTITY
                   ) -> None:
    """Every model's total-variation distance to the world's true channel shares (0 = exactly right) in each world
    variant (simulator/causal.py), and how often the data-driven models' 90% share intervals hold the true share;
    in the identity world `identity` (simulator/identity.py)."""
    kinds = attribution_models()
    default = kinds["data_driven"][0]
    coverage_by_model: dict[str, list[int]] = {}
    for world in worlds:
        for seed in seeds:
            label = f"{world} world, seed {seed}" if world != "default" else f"seed {seed}"
            label += f", {identity} identity world" if identity != DEFAULT_IDENTITY else ""
            print(f"model accuracy at scale {scale}, {label} (full run first) ...", flush=True)
            warehouse = work / f"accuracy-{world}-{seed}.duckdb"
            with sandbox_after_full_run(warehouse, seed, scale, world=world, identity=identity) as sb:
                effects = sb.control("GET", "truth/channel_effects")
                scores = accuracy(str(warehouse), effects)
                covered = coverage(str(warehouse), effects)
                whole, reference, incremental = seen_whole_distances(str(warehouse), world, default, effects)
            lower, higher = no_channel_spread(seed, scale, world, identity, effects)
            for model, distance in scores:
                report(f"{label}: {model} distance to true shares", f"{distance:7.3f}")
            by_model = dict(scores)
            best = min(kinds["heuristic"], key=lambda m: by_model[m])
            met = by_model[default] < min(0.10, by_model[best])
            report(f"{label}: default {default} vs best heuristic {best} (target: below it and < 0.10)",
                   f"{by_model[default]:.3f} vs {by_model[best]:.3f}: {'met' if met else 'NOT MET'}")
            # what the data leave out vs what the model adds (benchmarks/causal_reference.py)
            report(f"{label}: conversions seen whole, {default} vs the world's own causal model (credit summing to "
                   "one per conversion; incremental)", f"{whole:.3f} vs {reference:.3f}; {incremental:.3f}")
            report(f"{label}: the true shares had p(∅) been a fifth lower / higher, every record the same (what "
                   "no model can tell apart)", f"{lower:.3f} / {higher:.3f}")
            for model, (inside, channels) in sorted(covered.items()):
                report(f"{label}: {model} 90% share intervals holding the true share", f"{inside} of {channels}")
                held = coverage_by_model.setdefault(model, [0, 0])
                held[0], held[1] = held[0] + inside, held[1] + channels
    # An interval is the data's spread under the model's own form: it covers the truth only for a model whose form
    # fits the world (the default); a biased model's narrow intervals miss it, which is worth seeing.
    for model, (inside, channels) in sorted(coverage_by_model.items()):
        target = " (target 80-98%)" if model == default else " (no target: its bias is larger than its spread)"
        rate = inside / channels if channels else 0.0
        verdict = f": {'met' if 0.80 <= rate <= 0.98 else 'NOT MET'}" if model == default else ""
        report(f"worlds {' '.join(worlds)}, seeds {' '.join(map(str, seeds))}: {model} interval coverage{target}",
               f"{inside} of {channels} ({rate:.0%}){verdict}")


def bench_identity(scale: float, seeds: list[int], work: Path) -> None:
    """How right the warehouse ties vendor records together in each identity world (simulator/identity.py):
    pairwise precision and recall of de-duplication (records of one order in one conversion) and of stitching
    (records of one person under one person_id), against the truth's record ids. Target (#34): >= 0.98 each
    for de-duplication on the hard world."""
    for identity in IDENTITIES:
        for seed in seeds:
            label = f"{identity} identity world, seed {seed}, scale {scale}"
            print(f"{label}: full run ...", flush=True)
            warehouse = work / f"identity-{identity}-{seed}.duckdb"
            with sandbox_after_full_run(warehouse, seed, scale, identity=identity) as sb:
                truth = sb.control("GET", "truth/conversions")
            grouping = record_grouping(str(warehouse), truth)
            with duckdb.connect(str(warehouse), read_only=True) as con:
                conversions = con.execute("select count(*) from marts.conversions").fetchone()[0]
            (dp, dr), (sp, sr), (found, records) = grouping["deduplication"], grouping["stitching"], grouping["found"]
            met = "met" if min(dp, dr) >= 0.98 else "NOT MET"
            report(f"{label}: de-duplication precision / recall (target >= 0.98 each)", f"{dp:.3f} / {dr:.3f}: {met}")
            report(f"{label}: stitching precision / recall", f"{sp:.3f} / {sr:.3f}")
            report(f"{label}: conversions, ours vs the truth's orders ({found:,} of {records:,} records loaded)",
                   f"{conversions:,} vs {len(truth):,}")


def bench_spark(scale: float, work: Path) -> None:
    """The dbt build of one world on a Spark cluster of 1 worker vs 2 workers (1 core, 1 GiB each; the speed-up
    printed) and on DuckDB (printed, no target: a 2-core box favours DuckDB, Spark's gain is past one machine).
    The world is loaded once into a lake (registered in a throwaway Postgres metastore) and once into a DuckDB
    file; each build is the runner's own step (pipelines/spark.py: dbt build with its data tests)."""
    if problem := java_problem():
        report("spark", f"not run: {problem}")
        return
    lake = work / "spark-lake"
    duck = Warehouse(str(work / "spark-twin.duckdb"))
    with running_postgres() as postgres:
        metastore = postgres.create_database("metastore")
        print(f"loading scale {scale} into a Spark lake and a DuckDB file ...", flush=True)
        with running_sandbox(seed=7, scale=scale) as sb:
            use_sandbox(sb.url, list(SOURCES))
            with mock.patch.dict(os.environ, sandbox_present(sb)):
                loaded = run(list(SOURCES), Warehouse(f"spark:{lake}", metastore=metastore), transform=False,
                             publish=False, push=False)
                assert loaded.status == "ok", loaded
                twin = run(list(SOURCES), duck, transform=False, publish=False, push=False)
                assert twin.status == "ok", twin
        seconds: dict[str, float] = {}
        for workers in (1, 2):
            with local_cluster(workers=workers) as cluster:
                warehouse = Warehouse(f"spark:{lake}", metastore=metastore, master=cluster.master_url)
                print(f"dbt build on Spark, {workers} worker(s) ...", flush=True)
                seconds[f"spark-{workers}"], result = timed(spark_step, warehouse, list(SOURCES))
                assert result.status == "built", result.detail
                report(f"dbt build at scale {scale} on Spark, {workers} worker(s)",
                       f"{seconds[f'spark-{workers}']:7.1f} s")
    print("dbt build on DuckDB ...", flush=True)
    seconds["duckdb"], result = timed(run_transforms, duck, force=True, full_refresh=True)
    assert result.status == "built", result.detail
    report(f"dbt build at scale {scale} on DuckDB (its data tests and unit tests)", f"{seconds['duckdb']:7.1f} s")
    report("Spark speed-up, 2 workers vs 1", f"{seconds['spark-1'] / seconds['spark-2']:7.2f} x")
    report("Spark (2 workers) vs DuckDB (no target)", f"{seconds['spark-2'] / seconds['duckdb']:7.2f} x")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cm-scale", type=float, default=40)
    parser.add_argument("--export-rows", type=int, default=1_000_000)
    parser.add_argument("--model-scale", type=float, default=117,
                        help="the attribution bench builds at S and 2S (117: about 50,000 and 100,000 conversions)")
    parser.add_argument("--accuracy-scale", type=float, default=5)
    parser.add_argument("--accuracy-seeds", type=int, nargs="*", default=[7, 11, 23])
    parser.add_argument("--accuracy-identity", default=DEFAULT_IDENTITY, choices=list(IDENTITIES),
                        help="the identity world the accuracy runs in (simulator/identity.py; default: the sandbox's)")
    parser.add_argument("--accuracy-worlds", nargs="*", default=list(WORLDS), choices=list(WORLDS),
                        help="the sandbox's world variants to score the models in (default: all)")
    parser.add_argument("--identity-scale", type=float, default=5)
    parser.add_argument("--lake-scale", type=float, default=5)
    parser.add_argument("--push-scale", type=float, default=5)
    parser.add_argument("--noop-scale", type=float, default=5)
    parser.add_argument("--increment-scale", type=float, default=45,
                        help="the increment bench's world (45: about 45 days of history at about 45x the demo)")
    parser.add_argument("--scale", type=float, default=450, help="the full run of the `scale` bench")
    parser.add_argument("--stages", action="store_true",
                        help="the `scale` bench also runs stage by stage, one vendor at a time (no target)")
    parser.add_argument("--memory-limit", default=DEFAULT_MEMORY_LIMIT,
                        help="[warehouse] memory_limit for the `scale` bench's loads and build")
    parser.add_argument("--spark-scale", type=float, default=45, help="the world the `spark` bench builds")
    parser.add_argument("--quick", action="store_true",
                        help="a short run: scale 45 (not 450), model scale 20, 200,000 export rows, one accuracy seed")
    parser.add_argument("--only", nargs="*", choices=BENCHES)
    parser.add_argument("--keep-work", action="store_true",
                        help="keep the benches' warehouses (to profile them); kept anyway when a bench fails")
    args = parser.parse_args(argv)
    chosen = set(args.only or BENCHES)
    if args.quick:
        chosen -= set() if args.only else {"suite"}  # it has no short version: the whole tier, ~15 minutes
        args.scale, args.export_rows, args.accuracy_seeds = 45, 200_000, args.accuracy_seeds[:1]
        args.increment_scale = min(args.increment_scale, 5)
        args.spark_scale = min(args.spark_scale, 5)
        args.accuracy_worlds = args.accuracy_worlds[:1]
        args.model_scale = min(args.model_scale, 20)
    work = Path(tempfile.mkdtemp(prefix="bench-"))
    failed = True  # a bench that fails leaves its warehouses and dbt's logs to look into (a scale-1350 run: ~30 min)
    try:
        if "extraction" in chosen:
            bench_extraction(args.cm_scale, work)
        if "export" in chosen:
            bench_export(args.export_rows, work)
        if "attribution" in chosen:
            bench_attribution(args.model_scale, work)
        if "markov" in chosen:
            bench_markov()
        if "accuracy" in chosen:
            bench_accuracy(args.accuracy_scale, args.accuracy_seeds, args.accuracy_worlds, work,
                           args.accuracy_identity)
        if "identity" in chosen:
            bench_identity(args.identity_scale, args.accuracy_seeds, work)
        if "ducklake" in chosen:
            bench_ducklake(args.lake_scale, work)
        if "push" in chosen:
            bench_push(args.push_scale, work)
        if "noop" in chosen:
            bench_noop(args.noop_scale, work)
        if "increment" in chosen:
            bench_increment(args.increment_scale, work)
        if "scale" in chosen:
            bench_scale(args.scale, work, args.memory_limit, stages=args.stages)
        if "spill" in chosen:
            bench_spill(work, report)
        if "spark" in chosen:
            bench_spark(args.spark_scale, work)
        if "suite" in chosen:  # last: it starts every other process the tests need, and must have the machine
            run_suite(report)
        failed = False
    finally:
        if args.keep_work or failed:
            print(f"warehouses kept in {work}{' (a bench failed)' if failed else ''}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print("\nsummary")
    for name, value in RESULTS:
        print(f"  {name:<58} {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
