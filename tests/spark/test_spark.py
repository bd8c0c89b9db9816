"""Spark on a real local cluster (tests/spark/conftest.py: Postgres holding the Hive metastore, a master, two
1-core workers), one module so that one worker of the suite starts one cluster: stopping a cluster stops every
process; the runner loads a Spark lake (dlt's filesystem destination, append-only Parquet) and registers it in the
metastore, and another application, on both workers, reads its views (warehouse/spark_lake.py) as DuckDB's merged
tables after the same loads, and finds the files of every model dbt built on Spark, which equal DuckDB's build of the
same project. Each Spark application costs ~40 s here: the module runs few."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.pushes import run_pushes
from pipelines.registry import SOURCES
from pipelines.transform import run_transforms
from simulator.process import running_sandbox
from tests.conftest import SHARED_WORK_BUDGET, TEST_SCALE, TEST_SEED
from tests.proxy import running_proxy, spoiling_one_sale
from tests.spark.apps import run_app
from tests.warehouse import dbt_log, run_cli, sandbox_env
from warehouse import LOADER_FILE_FORMAT, Warehouse, make_pipeline
from warehouse.spark_cluster import SMALL_JVM_OPTIONS, class_archives
from warehouse.spark_lake import REGISTRATION_APP, ExpectedAppendFallback, loaded_tables
from warehouse.spark_reader import READER_APP

MODEL_SCHEMAS = ["reference", "staging", "intermediate", "marts", "outbox"]
DIFFER_BY_ENGINE = frozenset({"load_id", "fingerprint"})
PEOPLE_LEDGER = "__people"


def normalised(value):
    if isinstance(value, datetime):
        return (value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float | Decimal):
        return round(float(value), 9)
    return value


def rows(con: duckdb.DuckDBPyConnection, query: str, skipped: frozenset[str] = frozenset()
         ) -> tuple[list[str], list[tuple]]:
    found = con.execute(query)
    names = [d[0] for d in found.description]
    kept = [i for i, name in enumerate(names) if not name.startswith("_dlt") and name not in skipped]
    return ([names[i] for i in kept],
            sorted((tuple(normalised(row[i]) for i in kept) for row in found.fetchall()), key=repr))


def test_the_runner_loads_a_spark_lake_whose_views_equal_dlts_merged_tables(spark_place, tmp_path, monkeypatch):
    """The runner on `--warehouse spark:<lake>` loads every vendor and registers the lake (once: a run that
    changed no table registers nothing); the same loads into a DuckDB file with dlt's merge give the same
    tables as the lake's views read by Spark, after a first load with one sale rejected, then three days later
    the fix, refunds and restatements; and every model of the project dbt builds on Spark (the Python models in
    dbt's own session: transforms/plugins) equals the same model built by dbt on DuckDB."""
    assert spark_place.cluster.status()["aliveworkers"] == 2
    archives = class_archives()  # made by `make setup`: every JVM starts from the classes parsed and verified
    for pid in spark_place.cluster.pids.values():  # a throwaway cluster's JVMs compile for short work
        assert SMALL_JVM_OPTIONS.split()[0].encode() in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        assert str(archives["executor"]) in Path(f"/proc/{pid}/maps").read_text()
    lake = spark_place.lake / "lake"
    app_settings = spark_place.cluster.app_settings()  # as `make spark-demo` sets them, but that here every
    # application's JVMs must map their archive (-Xshare:on, where a JVM that cannot fails to start): the runner's,
    # the reading application's and dbt's (which started without one while a conf directory led its classpath)
    for jvm in ("driver", "executor"):
        app_settings[f"spark.{jvm}.extraJavaOptions"] += " -Xshare:on"
    settings = {"WAREHOUSE__METASTORE": spark_place.metastore.conninfo(),
                "WAREHOUSE__MASTER": spark_place.cluster.master_url,
                "WAREHOUSE__SPARK_SETTINGS": json.dumps(app_settings)}
    on_spark = Warehouse(f"spark:{lake}", metastore=settings["WAREHOUSE__METASTORE"],
                         master=settings["WAREHOUSE__MASTER"], spark_settings=tuple(app_settings.items())).checked()
    warehouse = Warehouse(str(tmp_path / "wh.duckdb"))
    spoiled, first_round, said = set(), [True], []
    spoil_one_sale = spoiling_one_sale(spoiled, active=lambda: first_round[0])  # rejected, then fixed
    with running_sandbox(seed=TEST_SEED, scale=TEST_SCALE, work_budget=SHARED_WORK_BUDGET) as sb, \
            running_proxy(sb.vendor_url("clickmagick"), spoil_one_sale) as clickmagick:
        env = sandbox_env(sb, list(SOURCES), SOURCES__CLICKMAGICK__BASE_URL=clickmagick.url, **settings)
        for key, value in env.items():
            if key.startswith(("SOURCES__", "DESTINATIONS__")):
                monkeypatch.setenv(key, value)
        for hours in (0, 72, 0):
            first_round[0] = hours == 0 and not said
            sb.advance(hours)
            last = len(said) == 2  # dbt builds on Spark in the last run only (each build takes minutes here)
            done = run_cli(["--warehouse", f"spark:{lake}", *([] if last else ["--no-transform"])],
                           {**env, "DESTINATIONS__ENABLED": str(last).lower()}, timeout=1200)
            assert done.returncode == 0, done.stdout + done.stderr
            assert not [m for m in ExpectedAppendFallback.EXPECTED if m in done.stderr]  # the lake's design, not news
            said.append(next(line for line in done.stdout.splitlines() if "transforms" in line))
            published = [line for line in done.stdout.splitlines() if line.strip().startswith("publish ")]
            pushed = [line.split() for line in done.stdout.splitlines() if line.strip().startswith("push ")]
            for vendor in SOURCES:
                pipeline = make_pipeline(vendor, warehouse)
                pipeline.activate()  # a source reads what its pipeline loaded before (rejections) when made
                pipeline.run(SOURCES[vendor].source(), loader_file_format=LOADER_FILE_FORMAT)
    assert "skipped" in said[0] and "registered clickmagick, integr8, webmarketer" in said[0], said
    assert "built" in said[2] and "the metastore was up to date" in said[2], said  # nothing new to register
    # Spark takes one bucket for the touches' join and stitching's distinct (macros/dialect.sql distinct_buckets):
    # the rows that size DuckDB's buckets are never counted there (each count was a Spark job of its own)
    spark_build = dbt_log(on_spark).read_text()
    assert not re.search(r"count\(\*\) as n from|count\(\*\) from \(select node_a as a", spark_build)
    assert len(published) == 1 and "published" in published[0], published  # the build's marts, for readers
    apps = [app["name"] for kind in ("activeapps", "completedapps") for app in spark_place.cluster.status()[kind]]
    assert apps.count(READER_APP) == 1, apps  # the publication and the push read through one application (~20 s each)
    assert REGISTRATION_APP not in apps, apps  # registering ran in the runner's driver alone: no executors started
    assert run_transforms(warehouse).status == "built"  # the same project on DuckDB, over the same loads
    # The Spark run pushed its outboxes (copied from the cluster into this machine's push state): each
    # destination sent what a push of DuckDB's build would send, and skipped the same rows.
    would = {d.destination: d for d in run_pushes(warehouse, dry_run=True)}
    assert {words[1] for words in pushed} == set(would) and all(words[2] == "pushed" for words in pushed), pushed
    for words in pushed:
        counts = {name: int(number.replace(",", "")) for name, number in
                  re.findall(r"(sent|unchanged|rejected|skipped) ([\d,]+)", " ".join(words))}
        expected = would[words[1]]
        assert counts == {"sent": expected.sent, "unchanged": 0, "rejected": 0,
                          "skipped": sum(expected.skipped.values())} and expected.sent > 0, (words, expected)

    raw = str(on_spark.raw_path)
    tables = sorted((vendor, t["name"]) for vendor in SOURCES
                    for t in make_pipeline(vendor, on_spark).default_schema.data_tables()
                    if t["name"] in loaded_tables(on_spark.raw_path, vendor) and not t["name"].startswith("_"))
    # Besides, in the same application: two loads of one table, the second with a new column, read whole.
    files = spark_place.lake / "two-loads"
    files.mkdir()
    pq.write_table(pa.table({"id": [1, 2], "channel": ["a", "b"]}), files / "load-1.parquet")
    pq.write_table(pa.table({"id": [2, 3], "channel": ["b2", "c"], "cost": [1.5, 2.5]}), files / "load-2.parquet")
    out = tmp_path / "from-spark"
    out.mkdir()
    archive_paths = json.dumps([str(path) for path in archives.values()])
    # scheduling waits for both executors (by default for 80% of them, 30 s at most: one, on a busy machine)
    waits = {"spark.scheduler.minRegisteredResourcesRatio": "1.0",
             "spark.scheduler.maxRegisteredResourcesWaitingTime": "300s"}
    seen = run_app({**on_spark.spark_conf(), **waits}, f"""
        import pyarrow.parquet as pq  # each relation through the driver: no output committer's job per table
        for vendor, table in {json.dumps(tables)}:
            pq.write_table(spark.table(f"`{{vendor}}`.`{{table}}`").toArrow(), f"{out}/{{vendor}}.{{table}}.parquet")
        # the models are Spark's tables: where each one's files are (the catalog's answer), read below by DuckDB
        models = [(schema, t.name, spark.sql(f"describe formatted `{{schema}}`.`{{t.name}}`")
                   .where("col_name = 'Location'").first()["data_type"])
                  for schema in {json.dumps(MODEL_SCHEMAS)} for t in spark.catalog.listTables(schema)]
        two_loads = spark.read.option("mergeSchema", "true").parquet("{files}")
        app, jvms = spark.sparkContext.applicationId, [spark._jvm.java.lang.ProcessHandle.current().pid()]
        jvms += [int(p) for p in os.listdir("/proc") if p.isdigit() and os.path.exists(f"/proc/{{p}}/cmdline")
                 and app.encode() in open(f"/proc/{{p}}/cmdline", "rb").read().split(b"\\0")]
        archived = [sum(path in open(f"/proc/{{p}}/maps").read() for path in {archive_paths}) for p in jvms]
        print(json.dumps({{"executors": len(spark.sparkContext.statusTracker().getExecutorInfos()), "models": models,
                          "archived": archived,
                          "two_loads": [list(r) for r in two_loads.orderBy("id", "channel")
                                        .select("id", "channel", "cost").collect()]}}))
    """)
    located = {(schema, model): location.removeprefix("file:") for schema, model, location in seen.pop("models")}
    models = sorted(located)
    assert seen == {"executors": 3,  # one on each worker, and the driver
                    "archived": [1, 1, 1],  # the driver and both executors each map their class-data archive
                    "two_loads": [[1, "a", None], [2, "b", None], [2, "b2", 1.5], [3, "c", 2.5]]}
    versions = 0
    with warehouse.connect() as con:
        for vendor, table in tables:
            merged = rows(con, f'select * from "{vendor}"."{table}"')
            viewed = rows(con, f"select * from read_parquet('{out}/{vendor}.{table}.parquet')")
            assert set(viewed[0]) == set(merged[0]), (vendor, table)
            order = [viewed[0].index(name) for name in merged[0]]
            assert sorted((tuple(r[i] for i in order) for r in viewed[1]), key=repr) == merged[1], (vendor, table)
            logged = con.execute(f"select count(*) from read_parquet('{raw}/{vendor}/{table}/*.parquet')").fetchone()
            versions += logged[0] - len(merged[1])
        resolved = con.execute(f"select count(*) from read_parquet('{raw}/clickmagick/rejected_records/*.parquet') "
                               "where resolved").fetchone()[0]
        still_rejected = con.execute("select count(*) from clickmagick.rejected_records").fetchone()[0]
    assert len(tables) > 20 and ("clickmagick", "rejected_records") in tables
    # Every model dbt built on Spark equals DuckDB's build of the same project over the same loads, but for the
    # columns that differ by design: each engine's own load ids and fingerprint hashes.
    with warehouse.connect() as con:
        on_duckdb = set(con.execute(
            "select table_schema, table_name from information_schema.tables where table_schema in "
            f"({', '.join(repr(s) for s in MODEL_SCHEMAS)}) and table_name not like '\\_%' escape '\\'").fetchall())
    # DuckDB's incremental models keep a ledger, <model>__people; stitching's numbers (a leading _) are bookkeeping
    names = {name for _, name in on_duckdb}
    on_duckdb = {(schema, name) for schema, name in on_duckdb if name.removesuffix(PEOPLE_LEDGER) not in names - {name}}
    assert set(models) == on_duckdb, on_duckdb ^ set(models)
    assert {("marts", "attribution"), ("marts", "attribution_shares"), ("outbox", "outbox_convertloop__people"),
            ("intermediate", "int_channel_weights__shapley")} <= on_duckdb
    with warehouse.connect() as con:
        for schema, model in models:
            merged = rows(con, f'select * from "{schema}"."{model}"', skipped=DIFFER_BY_ENGINE)
            viewed = rows(con, f"select * from read_parquet('{located[schema, model]}/*.parquet')",
                          skipped=DIFFER_BY_ENGINE)
            assert set(viewed[0]) == set(merged[0]), (schema, model)
            order = [viewed[0].index(name) for name in merged[0]]
            assert sorted((tuple(r[i] for i in order) for r in viewed[1]), key=repr) == merged[1], (schema, model)
    # The publication of the Spark build (read through the cluster) holds DuckDB's marts, with their docs (a mart
    # that is a view on DuckDB, `attribution`, is a table on Spark and in every publication).
    snapshot = spark_place.lake / "lake_published" / "snapshot.duckdb"
    with duckdb.connect(str(snapshot), read_only=True) as con:
        con.execute(f"attach '{warehouse.path}' as duck (read_only)")
        for database in ("duck", "snapshot"):
            con.execute(f"use {database}")
            marts = [name for (name,) in con.execute(
                "select table_name from duckdb_tables() where schema_name = 'marts' "
                "and database_name = current_database() union all select view_name from duckdb_views() "
                "where schema_name = 'marts' and database_name = current_database() order by 1").fetchall()]
            docs = con.execute("select table_name, comment from duckdb_tables() where schema_name = 'marts' "
                               "and database_name = current_database() union all "
                               "select view_name, comment from duckdb_views() where schema_name = 'marts' "
                               "and database_name = current_database() union all "
                               "select table_name || '.' || column_name, comment from duckdb_columns() "
                               "where schema_name = 'marts' and database_name = current_database() order by 1"
                               ).fetchall()
            content = {mart: rows(con, f"select * from marts.{mart}", skipped=DIFFER_BY_ENGINE) for mart in marts}
            types = con.execute("select table_name, column_name, data_type from duckdb_columns() where schema_name = "
                                "'marts' and database_name = current_database() order by 1, 2").fetchall()
            if database == "duck":
                expected = marts, docs, content, types
    assert (marts, docs, content, types) == expected and len(marts) == 8
    assert all(comment for _, comment in docs), [name for name, comment in docs if not comment]
    assert versions > 0  # the log holds restated versions that the views left out
    assert spoiled and resolved == 1 and still_rejected == 0  # a rejection, resolved: hard-deleted in both
