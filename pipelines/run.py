"""The scheduled job: extract every configured vendor into one DuckDB file, then build the transforms.

    python -m pipelines.run [--vendors a,b] [--warehouse PATH] [--no-transform] [--full-refresh]
                            [--backfill-from DATE] [--summary-json PATH]

Exit codes: 0 all loaded and built; 1 nothing loaded, or the transforms failed; 2 usage error;
3 partial (some vendors failed, the others loaded); 75 another run holds the warehouse lock.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from dlt.common.configuration.exceptions import ConfigFieldMissingException
from dlt.common.exceptions import DltException

from pipelines.lock import WarehouseBusy, WarehouseLock
from pipelines.registry import SOURCES
from pipelines.transform import TransformResult, run_transforms
from pipelines.vendors import env_key, fill_sandbox_credentials
from pipelines.warehouse import DEFAULT_WAREHOUSE, LOADER_FILE_FORMAT, make_pipeline
from sources.common.http import VendorError
from sources.common.incremental import now_utc, utc

EXIT_OK, EXIT_FAILED, EXIT_PARTIAL, EXIT_BUSY = 0, 1, 3, 75  # argparse owns 2 (usage)
log = logging.getLogger("pipelines.run")


@dataclass
class VendorResult:
    vendor: str
    status: str  # "loaded" or "failed"
    seconds: float
    rows: dict[str, int] = field(default_factory=dict)
    error: str | None = None


@dataclass
class RunSummary:
    warehouse: str
    status: str  # "ok", "partial", "failed"
    exit_code: int
    seconds: float
    vendors: list[VendorResult]
    transform: TransformResult | None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _vendor_error(exc: BaseException) -> BaseException:
    """The cause worth showing: our VendorError if the chain has one, else a missing setting, else the first
    exception that is not one of dlt's wrappers. Never an unrelated exception that was merely being handled
    when the real one was raised (`__context__` past a real error)."""
    chain: list[BaseException] = []
    seen: BaseException | None = exc
    while seen is not None and all(seen is not e for e in chain):
        chain.append(seen)
        seen = seen.__cause__ or (None if seen.__suppress_context__ else seen.__context__)
    for wanted in (VendorError, ConfigFieldMissingException):
        found = next((e for e in chain if isinstance(e, wanted)), None)
        if found is not None:
            return found
    return next((e for e in chain if not isinstance(e, DltException)), chain[-1])


def extract(vendor: str, warehouse: str, full_refresh: bool = False, backfill_from: str | None = None) -> VendorResult:
    started = time.monotonic()
    pipeline = make_pipeline(vendor, warehouse)
    try:
        source = SOURCES[vendor].source(**({"backfill_from": backfill_from} if backfill_from else {}))
        pipeline.run(source, loader_file_format=LOADER_FILE_FORMAT,
                     refresh="drop_sources" if full_refresh else None)
    except Exception as exc:  # one vendor failing must not stop the others
        cause = _vendor_error(exc)
        if isinstance(cause, VendorError):
            message = str(cause)
        elif isinstance(cause, ConfigFieldMissingException):
            where = ", ".join(env_key(vendor, field) for field in cause.fields)
            message = (f"{vendor}: missing setting(s) {', '.join(cause.fields)}: put them in .dlt/secrets.toml "
                       f"under [sources.{vendor}] or set {where}")
        else:
            message = f"{vendor}: {type(cause).__name__}: {cause}"
        log.error("%s failed: %s", vendor, message)
        return VendorResult(vendor, "failed", time.monotonic() - started, error=message)
    info = pipeline.last_trace.last_normalize_info
    rows = {t: n for t, n in (info.row_counts if info else {}).items() if not t.startswith("_dlt")}
    return VendorResult(vendor, "loaded", time.monotonic() - started, rows=dict(sorted(rows.items())))


def run(vendors: list[str], warehouse: str, transform: bool = True, full_refresh: bool = False,
        backfill_from: str | None = None) -> RunSummary:
    started = time.monotonic()
    fill_sandbox_credentials(vendors)
    results = [extract(v, warehouse, full_refresh, backfill_from) for v in vendors]
    loaded = [r for r in results if r.status == "loaded"]
    transform_result = run_transforms(warehouse) if transform and loaded else None
    if not loaded or (transform_result is not None and transform_result.status == "failed"):
        status, code = "failed", EXIT_FAILED
    elif len(loaded) < len(results):
        status, code = "partial", EXIT_PARTIAL
    else:
        status, code = "ok", EXIT_OK
    return RunSummary(warehouse, status, code, time.monotonic() - started, results, transform_result)


def print_summary(summary: RunSummary) -> None:
    print(f"run {summary.status} in {summary.seconds:.1f}s -> {summary.warehouse}")
    for result in summary.vendors:
        print(f"  {result.vendor:<12} {result.status:<7} {result.seconds:6.1f}s"
              + (f"  {result.error}" if result.error else ""))
        for table, rows in result.rows.items():
            print(f"      {table:<32} {rows:>10,} rows")
    if summary.transform is not None:
        t = summary.transform
        print(f"  transforms   {t.status:<7} {t.seconds:6.1f}s  {t.detail}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m pipelines.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vendors", default=",".join(SOURCES),
                        help=f"comma-separated subset of {', '.join(SOURCES)} (default: all)")
    parser.add_argument("--warehouse", default=DEFAULT_WAREHOUSE, help="DuckDB file (default: %(default)s)")
    parser.add_argument("--no-transform", action="store_true", help="load only; skip the dbt build")
    parser.add_argument("--full-refresh", action="store_true", help="drop each vendor's tables and state first")
    parser.add_argument("--backfill-from", metavar="DATE", help="re-read history from DATE (ISO), merging")
    parser.add_argument("--summary-json", metavar="PATH", help="also write the run summary as JSON")
    args = parser.parse_args(argv)
    if args.backfill_from:
        try:
            backfill = utc(args.backfill_from)
        except ValueError:
            parser.error(f"--backfill-from: {args.backfill_from!r} is not an ISO-8601 date or time")
        if backfill > now_utc():
            parser.error(f"--backfill-from: {args.backfill_from} is in the future; nothing could be re-read")
    args.vendor_list = [v.strip() for v in args.vendors.split(",") if v.strip()]
    unknown = [v for v in args.vendor_list if v not in SOURCES]
    if unknown or not args.vendor_list:
        parser.error(f"unknown vendors {unknown}; choose from {', '.join(SOURCES)}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        with WarehouseLock(args.warehouse):
            summary = run(args.vendor_list, args.warehouse, transform=not args.no_transform,
                          full_refresh=args.full_refresh, backfill_from=args.backfill_from)
    except WarehouseBusy as busy:
        print(f"error: {busy}", file=sys.stderr)
        return EXIT_BUSY
    print_summary(summary)
    if args.summary_json:
        Path(args.summary_json).write_text(json.dumps(summary.to_json(), indent=2, default=str))
    return summary.exit_code


if __name__ == "__main__":
    raise SystemExit(main())
