"""The scheduled job: extract every configured vendor into one DuckDB file, then build the transforms.

    python -m pipelines.run [--vendors a,b] [--warehouse PATH] [--no-transform | --force-transform] [--full-refresh]
                            [--backfill-from DATE] [--publish-dir PATH | --no-publish]
                            [--no-push | --push-only] [--dry-run] [--summary-json PATH]

The dbt build is skipped when no vendor loaded a changed row and the dbt project did not change since the
last successful build (the summary says "unchanged"); --force-transform builds anyway.
After a successful build the marts are published for readers (pipelines/publish.py): a read-only
snapshot `<publish dir>/snapshot.duckdb` and `<publish dir>/parquet/<mart>.parquet`, swapped in atomically.

Exit codes: 0 all loaded, built, published and pushed; 1 nothing loaded, the transforms or publishing failed,
or a failure outside any vendor (the summary's error says which); 2 usage error; 3 partial (some vendors
failed and the others loaded, or a destination's push failed); 75 another run holds the warehouse lock;
130 / 143 stopped by SIGINT / SIGTERM (the current step stops at its next safe point, dbt is stopped, the
rest is skipped; a re-run resumes).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from destinations.common.push import DestinationResult
from dlt_adapter import (
    DatabaseUndefinedRelation,
    ExtractInfo,
    Pipeline,
    SignalReceived,
    abort_pending_packages,
    intercepted_signals,
    received_signal,
    schema_is_stored,
    signal_received,
)
from pipelines.child import EXTRACT_PROCESS, LOAD_PROCESS, ChildDied, in_child
from pipelines.errors import describe
from pipelines.heap import release_memory, return_arrow_memory_promptly
from pipelines.publish import PublishResult, is_current
from pipelines.publish import publish as publish_marts
from pipelines.pushes import pushes_enabled, run_pushes
from pipelines.recovery import resync_with_warehouse, undo_interrupted_copies
from pipelines.registry import SOURCES
from pipelines.spark import spark_step
from pipelines.transform import TransformResult, run_transforms
from pipelines.vendors import fill_sandbox_credentials
from sources.common.contract import REJECTS_TABLE
from sources.common.drift import DRIFT_TABLE
from sources.common.incremental import now_utc, utc
from warehouse import (
    DEFAULT_WAREHOUSE,
    LOADER_FILE_FORMAT,
    Warehouse,
    WarehouseConfigError,
    as_warehouse,
    make_pipeline,
)
from warehouse.extensions import ensure_extensions
from warehouse.lock import CatalogLock, WarehouseBusy, WarehouseLock, warehouse_lock
from warehouse.publication import resolve_publish_dir
from warehouse.spark_reader import one_application

EXIT_OK, EXIT_FAILED, EXIT_PARTIAL, EXIT_BUSY = 0, 1, 3, 75  # argparse owns 2 (usage)
log = logging.getLogger("pipelines.run")


@dataclass
class VendorResult:
    vendor: str
    status: str  # "loaded", "failed", "interrupted" or "skipped" ("normalized" between extract and load)
    seconds: float
    rows: dict[str, int] = field(default_factory=dict)
    rejected: int = 0  # records waiting in <vendor>.rejected_records for a value that fits
    drift: list[str] = field(default_factory=list)  # open <vendor>.schema_drift rows, e.g. "sales.cogs missing"
    error: str | None = None


@dataclass
class RunSummary:
    warehouse: str
    status: str  # "ok", "partial", "failed", "interrupted"
    exit_code: int
    seconds: float
    vendors: list[VendorResult]
    transform: TransformResult | None
    published: PublishResult | None = None
    destinations: list[DestinationResult] = field(default_factory=list)
    error: str | None = None  # a failure outside any vendor and the transforms

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def extract(vendor: str, warehouse: Warehouse, full_refresh: bool = False, backfill_from: str | None = None,
            load_lock: threading.Lock | None = None, after_load: Callable[[], None] | None = None) -> VendorResult:
    """One vendor's dlt pipeline: what dlt's `run` does (extract_normalized, then load_normalized under
    `load_lock`, with `after_load` called under it once the load is done), in one process (Dagster's assets)."""
    result = extract_normalized(vendor, warehouse, full_refresh, backfill_from, load_lock)
    if result.status != "normalized":
        return result
    with load_lock or contextlib.nullcontext():
        return load_normalized(result, warehouse, after_load)


def extract_normalized(vendor: str, warehouse: Warehouse, full_refresh: bool = False,
                       backfill_from: str | None = None, load_lock: threading.Lock | None = None) -> VendorResult:
    """One vendor's extract and normalize, with the steps that write to the warehouse (state sync, a package a
    killed run left) under `load_lock`, so vendors extract side by side and write one at a time: "normalized"
    with the rows to load (load_normalized loads them), "loaded" when a killed run's package was loaded instead
    or nothing new came, else failed, interrupted or skipped."""
    started = time.monotonic()
    if signal_received():
        return VendorResult(vendor, "skipped", 0.0, error=stopped_by())
    writing = load_lock or contextlib.nullcontext()
    return_arrow_memory_promptly()  # an export's batches hand their pages back as they are freed (pipelines/heap.py)
    try:
        with writing:
            pipeline, in_step = resync_with_warehouse(make_pipeline(vendor, warehouse))
            pending = None
            if not in_step:
                undo_interrupted_copies(pipeline)
                # Syncs state with the warehouse; a package left by a killed run is loaded now, and the new data
                # waits for the next run (as dlt's run does).
                pending = pipeline.run()
        if pending is None:
            source = SOURCES[vendor].source(**({"backfill_from": backfill_from} if backfill_from else {}))
            extracted = pipeline.extract(source, loader_file_format=LOADER_FILE_FORMAT,
                                         refresh="drop_sources" if full_refresh else None)
            release_memory()  # the extract's rows are in files now
            info = None
            with writing:
                empty = carries_nothing(pipeline, extracted_rows(extracted))
                if empty:
                    abort_pending_packages(pipeline)  # nothing to normalize or write: a load would only record itself
            if not empty:
                info = pipeline.normalize()
                release_memory()
                with writing:
                    # Checked again: an extract that counted items can normalize to no row at all (the suite's
                    # no-op test recorded a load without this check).
                    if carries_nothing(pipeline, sum(info.row_counts.values())):
                        abort_pending_packages(pipeline)
                    else:
                        return VendorResult(vendor, "normalized", time.monotonic() - started,
                                            rows=data_rows(info.row_counts))
        else:
            info = pipeline.last_trace.last_normalize_info
    except (SignalReceived, Exception) as exc:  # one vendor failing must not stop the others
        return stopped_or_failed(vendor, exc, time.monotonic() - started)
    return VendorResult(vendor, "loaded", time.monotonic() - started, rows=data_rows(info.row_counts if info else {}),
                        rejected=open_rejections(pipeline), drift=open_drift(pipeline))


def load_normalized(extracted: VendorResult, warehouse: Warehouse, after_load: Callable[[], None] | None = None
                    ) -> VendorResult:
    """The load of what extract_normalized left: the vendor's result, now "loaded" with its rejections and drift
    read once loaded, or failed or interrupted (no rows: none was loaded). A failed load leaves the package for the
    next run, which loads it first (as a killed run's)."""
    vendor, started = extracted.vendor, time.monotonic()
    try:
        pipeline = make_pipeline(vendor, warehouse)
        pipeline.load()
        if after_load is not None:
            after_load()
        release_memory()
    except (SignalReceived, Exception) as exc:  # one vendor failing must not stop the others
        return stopped_or_failed(vendor, exc, extracted.seconds + time.monotonic() - started)
    return replace(extracted, status="loaded", seconds=extracted.seconds + time.monotonic() - started,
                   rejected=open_rejections(pipeline), drift=open_drift(pipeline))


def stopped_or_failed(vendor: str, exc: BaseException, seconds: float) -> VendorResult:
    """A vendor's result once one of its steps raised `exc`: interrupted when a signal stopped it (dlt's own
    exception, or a step cut short by the signal and wrapped by dlt), else failed with the cause."""
    if isinstance(exc, SignalReceived) or signal_received():
        return VendorResult(vendor, "interrupted", seconds, error=stopped_by())
    message = describe(exc, vendor)
    log.error("%s failed: %s", vendor, message)
    return VendorResult(vendor, "failed", seconds, error=message)


def data_rows(row_counts: dict[str, int]) -> dict[str, int]:
    """Rows per data table: `_dlt_*` is dlt's bookkeeping, `_fingerprints_*` the change filter's."""
    return {t: n for t, n in sorted(row_counts.items()) if not t.startswith("_")}


def carries_nothing(pipeline: Pipeline, rows: int) -> bool:
    """Whether the package just extracted or normalized holds no row (`rows`: no data, no state change) and a
    schema the warehouse already has: loading it would change nothing but dlt's own record of loads."""
    if rows:
        return False
    return schema_is_stored(pipeline)


def extracted_rows(info: ExtractInfo) -> int:
    """Rows the extract wrote, all tables (dlt's state included)."""
    return sum(table.items_count for metrics in info.metrics.values() for step in metrics
               for table in step["table_metrics"].values())


def extract_vendors(vendors: list[str], warehouse: Warehouse, full_refresh: bool = False,
                    backfill_from: str | None = None) -> list[VendorResult]:
    """Every vendor extracted and normalized side by side (waiting on their APIs overlaps); a package a killed
    run left is loaded first, one vendor at a time (one DuckDB writer); the new data are left normalized for
    load_vendors."""
    load_lock = threading.Lock()
    with warehouse.kept_open(), ThreadPoolExecutor(max_workers=len(vendors), thread_name_prefix="vendor") as pool:
        futures = [pool.submit(extract_normalized, vendor, warehouse, full_refresh, backfill_from, load_lock)
                   for vendor in vendors]
        return [future.result() for future in futures]


def load_vendors(extracted: list[VendorResult], warehouse: Warehouse) -> list[VendorResult]:
    """Each normalized vendor's load, one after another; DuckDB's cache of a finished load is dropped before the
    next (Warehouse.kept_open)."""
    with warehouse.kept_open() as reopen:
        return [load_normalized(result, warehouse, reopen) if result.status == "normalized" and not signal_received()
                else result for result in extracted]


def extract_in_child(vendors: list[str], warehouse: Warehouse, full_refresh: bool = False,
                     backfill_from: str | None = None) -> list[VendorResult]:
    """extract_vendors in a child process, then load_vendors in another (pipelines/child.py): the memory the
    extract leaves behind (Python's heap, fragmented by millions of rows read as dicts: ~1 GiB after
    ClickMagick's extract at scale 1350) is gone before the loads copy their files into DuckDB, and what the
    loads leave is gone before dbt builds. What a child raises is raised here; a child that dies (the kernel's
    OOM killer) fails every vendor it had with the cause: what was loaded stays, and the next run resumes (a
    normalized package not loaded is loaded first). A signal between the two stops before the loads."""
    started = time.monotonic()
    try:
        extracted = in_child(extract_vendors, vendors, warehouse, full_refresh, backfill_from, name=EXTRACT_PROCESS)
    except ChildDied as died:
        return died_in(f"the extract process {died}", vendors, started)
    results = extracted
    if any(result.status == "normalized" for result in extracted) and not signal_received():
        try:
            results = in_child(load_vendors, extracted, warehouse, name=LOAD_PROCESS)
        except ChildDied as died:
            failed = died_in(f"the load process {died}", [r.vendor for r in extracted], started)
            return [f if r.status == "normalized" else r for r, f in zip(extracted, failed, strict=True)]
    # what a signal left normalized waits for the next run, which loads it first
    return [replace(r, status="interrupted", rows={}, error=stopped_by()) if r.status == "normalized" else r
            for r in results]


def died_in(cause: str, vendors: list[str], started: float) -> list[VendorResult]:
    log.error("%s", cause)
    return [VendorResult(vendor, "failed", time.monotonic() - started, error=cause) for vendor in vendors]


def contract_table_rows(pipeline: Pipeline, table: str, select: str) -> list[Any]:
    """The first column of `select <select> from <vendor>.<table>` (rejected_records, schema_drift); none before
    the table exists."""
    try:
        with pipeline.sql_client() as sql:
            return [row[0] for row in sql.execute_sql(f"select {select} from {sql.make_qualified_table_name(table)}")]
    except DatabaseUndefinedRelation:
        return []


def open_rejections(pipeline: Pipeline) -> int:
    return int(next(iter(contract_table_rows(pipeline, REJECTS_TABLE, "count(*)")), 0))


def open_drift(pipeline: Pipeline) -> list[str]:
    return sorted(contract_table_rows(pipeline, DRIFT_TABLE, "table_name || '.' || column_name || ' ' || change"))


def stopped_by() -> str:
    return f"stopped by {signal.Signals(received_signal()).name}"


def publication_current(warehouse: Warehouse, publish_dir: str | None) -> bool:
    try:
        return is_current(warehouse, publish_dir)
    except Exception as exc:  # cannot tell (the warehouse unreadable): publish, which says what is wrong
        log.warning("could not compare the publication with the last build: %s", describe(exc))
        return False


def publish_step(warehouse: Warehouse, publish_dir: str | None) -> PublishResult:
    started = time.monotonic()
    try:
        return publish_marts(warehouse, publish_dir)
    except Exception as exc:  # the previous publication stays in place for readers
        target = resolve_publish_dir(warehouse, publish_dir)
        message = describe(exc)
        log.error("publishing to %s failed: %s", target, message)
        return PublishResult("failed", time.monotonic() - started, str(target), detail=message)


def run(vendors: list[str], warehouse: Warehouse | str, transform: bool = True, full_refresh: bool = False,
        backfill_from: str | None = None, lock: WarehouseLock | CatalogLock | None = None, publish: bool = True,
        publish_dir: str | None = None, push: bool = True, push_only: bool = False,
        dry_run: bool = False, force_transform: bool = False) -> RunSummary:
    """Extract each vendor, build the transforms, publish the marts, push the outboxes to the destinations.
    SIGINT or SIGTERM stops the whole run at the next safe point (dlt drains its load jobs, dbt is stopped,
    a push stops between two requests): the rest is skipped, the summary says so."""
    started = time.monotonic()
    warehouse = as_warehouse(warehouse)
    results: list[VendorResult] = []
    transform_result: TransformResult | None = None
    published: PublishResult | None = None
    pushed: list[DestinationResult] = []
    with intercepted_signals():  # dlt's steps share this handler: one signal stops every step
        ensure_extensions(warehouse.extensions())  # a missing one is one clear line, not one per vendor
        if not push_only:
            fill_sandbox_credentials(vendors)
            results = extract_in_child(vendors, warehouse, full_refresh, backfill_from)
        loaded = [r for r in results if r.status == "loaded"]
        if warehouse.is_spark and loaded and not signal_received():
            transform_result = spark_step(warehouse, [r.vendor for r in loaded], build=transform,
                                          inherit_fds=lock.fds() if lock else ())
        elif transform and loaded and not signal_received():
            transform_result = run_transforms(warehouse, inherit_fds=lock.fds() if lock else (),
                                              force=force_transform, full_refresh=full_refresh)
        built = transform_result is not None and transform_result.status in ("built", "unchanged")
        # Unchanged marts are published already, unless the publication is not of the last build (its publish
        # failed, or this is a new publish path): checked on every run. (A Spark build is always "built".)
        # On Spark the publication and the push read the marts and outboxes through one application.
        with one_application():
            if publish and built and not signal_received() and (
                    transform_result.status == "built" or not publication_current(warehouse, publish_dir)):
                published = publish_step(warehouse, publish_dir)
            if (push_only or (push and built)) and not signal_received():
                pushed = run_pushes(warehouse, dry_run=dry_run)
        failed_pushes = [d for d in pushed if d.status in ("failed", "partial")]
        if signal_received():
            status, code = "interrupted", 128 + received_signal()
        elif push_only:
            status, code = ("partial", EXIT_PARTIAL) if failed_pushes else ("ok", EXIT_OK)
        elif not loaded or (transform_result is not None and transform_result.status == "failed") \
                or (published is not None and published.status == "failed"):
            status, code = "failed", EXIT_FAILED
        elif len(loaded) < len(results) or failed_pushes:
            status, code = "partial", EXIT_PARTIAL
        else:
            status, code = "ok", EXIT_OK
    return RunSummary(warehouse.label(), status, code, time.monotonic() - started, results, transform_result,
                      published, pushed)


def print_summary(summary: RunSummary) -> None:
    print(f"run {summary.status} in {summary.seconds:.1f}s -> {summary.warehouse}")
    if summary.error:
        print(f"  error: {summary.error}")
    for result in summary.vendors:
        print(f"  {result.vendor:<12} {result.status:<7} {result.seconds:6.1f}s"
              + (f"  {result.error}" if result.error else ""))
        for table, rows in result.rows.items():
            print(f"      {table:<32} {rows:>10,} rows")
        if result.rejected:
            print(f"      {result.rejected:,} records rejected: they do not fit their documented types; "
                  f"see {result.vendor}.{REJECTS_TABLE}")
        if result.drift:
            print(f"      schema drift: {', '.join(result.drift)} (documented fields a record leaves out keep "
                  f"their loaded values); see {result.vendor}.{DRIFT_TABLE}")
    if summary.transform is not None:
        t = summary.transform
        print(f"  transforms   {t.status:<7} {t.seconds:6.1f}s  {t.detail}")
    if summary.published is not None:
        p = summary.published
        print(f"  publish      {p.status:<7} {p.seconds:6.1f}s  {p.detail}")
    for d in summary.destinations:
        skipped = sum(d.skipped.values())
        sent = f"would send {d.sent:,}" if d.status == "dry-run" else f"sent {d.sent:,}"
        counts = f"{sent}, unchanged {d.unchanged:,}, rejected {d.rejected:,}, skipped {skipped:,}"
        if d.failed or d.uncertain:
            counts += (f", failed {d.failed:,} (tried again next run), outcome unknown {d.uncertain:,} (not sent "
                       "again: see reverse_etl.open_rejects)")
        print(f"  push {d.destination:<12} {d.status:<7} {d.seconds:6.1f}s  {counts}"
              + (f"  {d.error}" if d.error else ""))
        for reason, rows in d.skipped.items():
            print(f"      skipped {rows:>8,}  {reason}")
        for row in d.sample:
            print(f"      would send {json.dumps(row, default=str)[:300]}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m pipelines.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vendors", default=",".join(SOURCES),
                        help=f"comma-separated subset of {', '.join(SOURCES)} (default: all)")
    parser.add_argument("--warehouse", help=f"a DuckDB file, ducklake:<catalog> or spark:<lake directory> (default: "
                                            f"[warehouse] location in .dlt/config.toml, else {DEFAULT_WAREHOUSE}; see "
                                            "warehouse/kinds.py)")
    transforming = parser.add_mutually_exclusive_group()
    transforming.add_argument("--no-transform", action="store_true", help="load only; skip the dbt build")
    transforming.add_argument("--force-transform", action="store_true",
                              help="build even when no loaded row and no model changed since the last build")
    parser.add_argument("--full-refresh", action="store_true",
                        help="drop each vendor's tables and state first, and rebuild every dbt model whole")
    parser.add_argument("--backfill-from", metavar="DATE", help="re-read history from DATE (ISO), merging")
    parser.add_argument("--publish-dir", metavar="PATH",
                        help="where readers find the marts (default: [publish] path in .dlt/config.toml, "
                             "else <warehouse name>_published/ beside the warehouse)")
    parser.add_argument("--no-publish", action="store_true", help="do not publish the marts for readers")
    pushing = parser.add_mutually_exclusive_group()
    pushing.add_argument("--no-push", action="store_true", help="do not push the outboxes to the destinations")
    pushing.add_argument("--push-only", action="store_true", help="only push (no extract, transform or publish)")
    parser.add_argument("--dry-run", action="store_true",
                        help="with --push-only: print counts and a sample of what would be sent; send and record "
                             "nothing")
    parser.add_argument("--summary-json", metavar="PATH", help="also write the run summary as JSON")
    args = parser.parse_args(argv)
    if args.dry_run and not args.push_only:  # a run that loads, builds and publishes is no dry run
        parser.error("--dry-run previews a push: use it with --push-only")
    if args.backfill_from:
        try:
            backfill = utc(args.backfill_from)
        except ValueError:
            parser.error(f"--backfill-from: {args.backfill_from!r} is not an ISO-8601 date or time")
        if backfill > now_utc():
            parser.error(f"--backfill-from: {args.backfill_from} is in the future; nothing could be re-read")
    try:
        args.warehouse = Warehouse.configured(args.warehouse)
    except WarehouseConfigError as exc:
        parser.error(str(exc))
    if problem := args.warehouse.file_problem():  # before the lock file is made beside it
        parser.error(f"--warehouse: {problem}")
    args.vendor_list = [v.strip() for v in args.vendors.split(",") if v.strip()]
    unknown = [v for v in args.vendor_list if v not in SOURCES]
    if unknown or not args.vendor_list:
        parser.error(f"unknown vendors {unknown}; choose from {', '.join(SOURCES)}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    started = time.monotonic()
    try:
        with warehouse_lock(args.warehouse) as lock:
            summary = run(args.vendor_list, args.warehouse, transform=not args.no_transform,
                          full_refresh=args.full_refresh, backfill_from=args.backfill_from, lock=lock,
                          publish=not args.no_publish, publish_dir=args.publish_dir,
                          push=not args.no_push and pushes_enabled(),
                          push_only=args.push_only, dry_run=args.dry_run, force_transform=args.force_transform)
    except WarehouseBusy as busy:
        print(f"error: {busy}", file=sys.stderr)
        return EXIT_BUSY
    except Exception as exc:  # outside any vendor: the lock's directory, the disk, the warehouse file
        log.debug("the run failed outside any vendor", exc_info=True)
        summary = RunSummary(args.warehouse.label(), "failed", EXIT_FAILED, time.monotonic() - started, [], None,
                             error=describe(exc))
    print_summary(summary)
    if args.summary_json:
        try:
            Path(args.summary_json).write_text(json.dumps(summary.to_json(), indent=2, default=str))
        except OSError as exc:
            print(f"error: could not write --summary-json: {describe(exc)}", file=sys.stderr)
            return summary.exit_code or EXIT_FAILED
    return summary.exit_code


if __name__ == "__main__":
    raise SystemExit(main())
