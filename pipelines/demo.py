"""`make demo`: a sandbox on a free port, the whole pipeline against it, the headline, then stop.

    python -m pipelines.demo [--warehouse demo.duckdb] [--seed 7] [--scale 1]
    python -m pipelines.demo --spark [--warehouse spark_demo] ...     (`make spark-demo`)

It ends with the published snapshot (demo_published/snapshot.duckdb) and the dashboard built from it
(demo_published/dashboard.html).

With --spark the same job runs on a throwaway Spark cluster on this machine: a Postgres for the Hive metastore, a
master and two 1-core workers (warehouse/spark_cluster.py), the lake in the directory `--warehouse` names; it
publishes spark_demo_published/ (the marts read through the cluster) and pushes to the sandbox's write-only vendors,
then stops every process it started.

The demo warehouse is rebuilt from scratch each time (it holds synthetic data only).
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
from pathlib import Path

import duckdb

from pipelines.errors import describe
from pipelines.publish import DASHBOARD
from pipelines.pushes import use_sandbox_destinations
from pipelines.registry import SOURCES
from pipelines.run import EXIT_FAILED, RunSummary, print_summary, run
from pipelines.vendors import use_sandbox
from simulator.process import running_sandbox
from warehouse import Warehouse, pipelines_dir
from warehouse.local_postgres import running_postgres
from warehouse.lock import WarehouseLock, warehouse_lock
from warehouse.publication import default_publish_dir
from warehouse.spark_catalog import HiveMetastore
from warehouse.spark_cluster import java_problem, local_cluster

BY_MODEL = """
pivot (select channel, attribution_model, conversions from marts.channel_performance)
on attribution_model in ('first_touch', 'last_touch', 'linear', 'time_decay', 'shapley', 'markov')
using round(sum(conversions), 1) group by channel order by channel
"""
BY_CURRENCY = """
select currency, channel, round(sum(conversions), 1) as conversions, round(sum(revenue), 2) as revenue,
       round(sum(spend), 2) as spend, round(sum(revenue) / nullif(sum(spend), 0), 2) as roas
from marts.channel_performance where attribution_model = 'shapley'
group by all order by currency, revenue desc
"""


def headline(warehouse: str) -> None:
    if not Path(warehouse).exists():
        print("\n(nothing was loaded: see the errors above)")
        return
    with duckdb.connect(warehouse, read_only=True) as con:
        has_marts = con.execute("select count(*) from information_schema.tables where table_schema = 'marts' "
                                "and table_name = 'channel_performance'").fetchall()[0][0]
        if not has_marts:
            print("\n(no marts yet: the row counts above are what was loaded)")
            return
        print("\nmarts.channel_performance: credited conversions by channel and model")
        con.sql(BY_MODEL).show(max_rows=60)
        print("Shapley (the default data-driven model): revenue, spend and ROAS by currency and channel")
        con.sql(BY_CURRENCY).show(max_rows=60)


def print_received(received: dict[str, dict[str, list[dict]]]) -> None:
    """What the sandbox's write-only vendors accepted from the push: counts and one example each."""
    if not received:
        return
    print("\npushed to the sandbox's write-only vendors (GET /_sim/received):")
    for vendor, resources in received.items():
        for resource, calls in resources.items():
            example = json.dumps(calls[0], default=str)
            print(f"  {vendor}/{resource}: {len(calls):,} calls, e.g. {example[:220]}")


def print_headline(database: str) -> None:
    try:
        headline(database)
    except duckdb.Error as exc:
        print(f"\n(no headline: {describe(exc)})")


def print_publication(summary: RunSummary) -> None:
    """Where readers find what the run published."""
    if summary.published is not None and summary.published.status == "published":
        dashboard = Path(summary.published.path).with_name(DASHBOARD)  # written by the publication
        print(f"\ndashboard (open it in a browser, works offline): {dashboard}")
        print(f"BI tools and the DuckDB CLI: duckdb -readonly {summary.published.path}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.demo", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--warehouse", help="the DuckDB file (default demo.duckdb), or with --spark the lake "
                        "directory (default spark_demo)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--spark", action="store_true", help="run on a throwaway local Spark cluster")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.spark:
        return spark_demo(Path(args.warehouse or "spark_demo"), args.seed, args.scale)

    warehouse = Path(args.warehouse or "demo.duckdb")
    with WarehouseLock(warehouse) as lock:
        warehouse.unlink(missing_ok=True)
        Path(f"{warehouse}.wal").unlink(missing_ok=True)
        shutil.rmtree(pipelines_dir(warehouse), ignore_errors=True)
        published = default_publish_dir(warehouse)  # the demo's own, never a configured [publish] path
        shutil.rmtree(published, ignore_errors=True)
        print(f"starting the sandbox (seed {args.seed}, scale {args.scale}) ...")
        with running_sandbox(seed=args.seed, scale=args.scale) as sandbox:
            print(f"sandbox at {sandbox.url}; loading {', '.join(SOURCES)} into {warehouse}")
            use_sandbox(sandbox.url, list(SOURCES))
            use_sandbox_destinations(sandbox.url)
            summary = run(list(SOURCES), str(warehouse), lock=lock, publish_dir=str(published))
            received = sandbox.control("GET", "received")
        print_summary(summary)
    print_received(received)
    print_headline(str(warehouse))
    print_publication(summary)
    query = f"import duckdb; duckdb.connect('{warehouse}', read_only=True).sql('show all tables').show()"
    print(f'\nquery it: .venv/bin/python -c "{query}"')
    return summary.exit_code


def spark_demo(lake: Path, seed: int, scale: float) -> int:
    """The demo on a Spark cluster started (and stopped) here; the headline from its publication."""
    problem = java_problem()
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return EXIT_FAILED
    lake = lake.resolve()
    where = Warehouse(f"spark:{lake}")  # its paths; its metastore and master come with the cluster below
    published = default_publish_dir(where)
    for path in (lake, published, where.pipelines_dir(), where.dbt_dir()):
        shutil.rmtree(path, ignore_errors=True)
    print("starting Postgres (the Hive metastore) and a Spark cluster: a master and two 1-core workers ...")
    with running_postgres() as postgres, local_cluster(workers=2) as cluster:
        metastore = HiveMetastore.from_libpq(postgres.create_database("metastore"))
        warehouse = Warehouse(f"spark:{lake}", metastore=metastore.conninfo(), master=cluster.master_url,
                              spark_settings=tuple(cluster.app_settings().items())).checked()
        print(f"cluster at {cluster.master_url} (web UI {cluster.web_url}); starting the sandbox (seed {seed}, "
              f"scale {scale}) ...")
        with running_sandbox(seed=seed, scale=scale) as sandbox, warehouse_lock(warehouse) as lock:
            print(f"sandbox at {sandbox.url}; loading {', '.join(SOURCES)} into {warehouse.label()}")
            use_sandbox(sandbox.url, list(SOURCES))
            use_sandbox_destinations(sandbox.url)
            summary = run(list(SOURCES), warehouse, lock=lock, publish_dir=str(published))
            received = sandbox.control("GET", "received")
    print_summary(summary)
    print_received(received)
    if summary.published is not None and summary.published.status == "published":
        print_headline(summary.published.path)  # the lake is read with Spark; its publication with DuckDB
    print_publication(summary)
    return summary.exit_code


if __name__ == "__main__":
    sys.exit(main())
