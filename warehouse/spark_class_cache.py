"""Class-data archives for the JVMs of a throwaway local Spark cluster (the JDK's dynamic CDS): a JVM that maps one
finds Spark's ~15,000 classes parsed and verified already. Measured here: a driver with two executors on the test
cluster started and ran a small job in 7.8 s instead of 13.0, its driver using 4.9 CPU-s instead of 8.6 and each
executor 3.4 instead of 5.1 (the figures the README gives).

An archive holds the classes one JVM loaded, and serves only JVMs of the same Java build whose classpath starts with
the one it was made with (the same jars, unchanged): one for executors and daemons (Spark's jars), one for
drivers (the Postgres JDBC driver first, as `spark.driver.extraClassPath` puts it; dbt's too, whose settings come
as a properties file, not a conf directory of its own that would come first). A JVM whose classpath differs (a
SPARK_CONF_DIR of the user's) or whose Java was upgraded starts as before: the archive is keyed
by the Java build, pyspark, Spark's home and jars, and the JVM's CDS messages are off. `make setup` makes them
(`warehouse.spark_cluster.make_class_archives`); without them every JVM starts as before.

A half-written archive crashes the JVM that maps it (SIGBUS): each is written to a temporary name, mapped once by a
JVM that must succeed, then renamed into place."""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

ARCHIVES = Path(__file__).resolve().parents[1] / "var" / "spark-cds"
QUIET = "-Xshare:auto -Xlog:cds=off -Xlog:cds+dynamic=off"  # a JVM that cannot use the archive says nothing
TIMEOUT_S = 300

# A local application whose driver runs its tasks too (local mode): what both drivers and executors load.
DUMPING_APP = """
import json, os, sys
from pyspark.sql import SparkSession
from pyspark import SparkContext
conf = json.loads(os.environ["SPARK_CDS_CONF"])
builder = SparkSession.builder.master("local[1]").appName("class-data archive")
for key, value in conf.items():
    builder = builder.config(key, value)
spark = builder.getOrCreate()
days = "date_add(date'2026-01-01', cast(id % 30 as int)) as d"
spark.range(10000).selectExpr("id % 7 as k", "cast(id as double) as v", days) \\
    .groupBy("k").agg({"v": "sum", "d": "max"}).orderBy("k").toArrow()
spark.sql("select k, count(*) over (partition by k) as n from values (1), (2), (2) as t(k)").toPandas()
print(json.dumps(spark._jvm.java.lang.System.getProperty("java.class.path")))
gateway = SparkContext._gateway
spark.stop()
gateway.shutdown()
gateway.proc.stdin.close()  # the JVM exits, writing the archive on its way out
sys.exit(gateway.proc.wait(timeout=120))
"""


def java() -> str:
    """The Java that Spark's scripts run: $JAVA_HOME's, else the one on the PATH."""
    home = os.environ.get("JAVA_HOME")
    return str(Path(home) / "bin" / "java") if home else "java"


def archive(kind: str, classpath: Sequence[Path], spark_home: Path) -> Path:
    """Where the archive of `kind` for JVMs whose classpath starts with `classpath` then Spark's jars lives: its name
    carries the Java build and the jars it was made from."""
    build = subprocess.run([java(), "-Xshare:off", "-version"], capture_output=True, text=True).stderr
    jars = sorted((p.name, p.stat().st_size) for p in (spark_home / "jars").glob("*.jar"))
    extra = [(str(p), p.stat().st_size if p.exists() else None) for p in classpath]
    key = hashlib.sha256(json.dumps([build, importlib.metadata.version("pyspark"), str(spark_home), jars, extra]
                                    ).encode()).hexdigest()
    return ARCHIVES / f"{kind}-{key[:16]}.jsa"


def archive_options(path: Path) -> str:
    """The JVM options that map `path` when it exists (else none: the JVM starts as before)."""
    return f"-XX:SharedArchiveFile={path} {QUIET}" if path.exists() else ""


def make_archive(path: Path, classpath: Sequence[Path], jvm_options: str) -> Path:
    """Runs a small local application whose JVM writes the archive at `path` as it exits, checks that a JVM maps it,
    and only then puts it in place. Already there: kept."""
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(dir=path.parent)) / path.name
    try:
        conf = {"spark.driver.extraJavaOptions": f"{jvm_options} -XX:ArchiveClassesAtExit={partial} {QUIET}",
                "spark.ui.enabled": "false", "spark.ui.showConsoleProgress": "false", "spark.log.level": "ERROR"}
        if classpath:
            conf["spark.driver.extraClassPath"] = os.pathsep.join(map(str, classpath))
        done = subprocess.run([sys.executable, "-c", DUMPING_APP], capture_output=True, text=True,
                              env={**os.environ, "SPARK_CDS_CONF": json.dumps(conf)}, timeout=TIMEOUT_S)
        if done.returncode != 0 or not partial.exists():
            raise RuntimeError(f"no class-data archive was written ({done.returncode}): {done.stderr[-2000:]}")
        classpath_used = json.loads(done.stdout.strip().splitlines()[-1])  # as Spark's launcher set it
        mapped = subprocess.run([java(), f"-XX:SharedArchiveFile={partial}", "-Xshare:on", "-cp", classpath_used,
                                 "-version"], capture_output=True, text=True, timeout=60)
        if mapped.returncode != 0:
            raise RuntimeError(f"the class-data archive {partial.name} does not map: {mapped.stderr[-1000:]}")
        os.replace(partial, path)
        return path
    finally:
        partial.unlink(missing_ok=True)
        partial.parent.rmdir()


def remove_other_archives(kept: Sequence[Path]) -> None:
    """Archives of an earlier Java build or Spark (~160 MB each) that no JVM maps any more."""
    for old in set(ARCHIVES.glob("*.jsa")) - set(kept):
        old.unlink(missing_ok=True)
