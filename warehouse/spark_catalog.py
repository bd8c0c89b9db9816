"""Spark's shared catalog: a Hive metastore in Postgres, so that every Spark application (the runner registering
raw tables, dbt building models, a reader) sees the same databases and tables, and the Spark settings that point
an application at it and at the lake directory.

Spark's embedded Derby metastore admits one process at a time; a real database admits all. Hive's schema is
created up front by DataNucleus's SchemaTool from the `package.jdo` inside Spark's own hive-metastore jar (letting
the first application create it deadlocked on the first table), and the JDBC driver is Debian's
`libpostgresql-jdbc-java` (`make setup` installs it).
"""

from __future__ import annotations

import subprocess
import tempfile
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from warehouse import libpq
from warehouse.spark_cluster import POSTGRES_JDBC_JAR, SparkClusterError, spark_home


@dataclass(frozen=True)
class HiveMetastore:
    host: str
    port: int
    dbname: str
    user: str
    password: str = ""

    @classmethod
    def from_libpq(cls, conninfo: str) -> HiveMetastore:
        """From libpq's `key=value` settings (`dbname=metastore host=db port=5432 user=spark`), as the DuckLake
        catalog is given."""
        settings = libpq.settings(conninfo)
        if "dbname" not in settings:
            raise SparkClusterError(f"the metastore's settings {libpq.redacted(conninfo)!r} name no dbname")
        return cls(settings.get("host", "127.0.0.1"), int(settings.get("port", 5432)), settings["dbname"],
                   settings.get("user", "postgres"), settings.get("password", ""))

    def conninfo(self) -> str:
        """libpq's settings without the password (psycopg takes it apart)."""
        return f"host={self.host} port={self.port} dbname={self.dbname} user={self.user}"

    @property
    def jdbc_url(self) -> str:
        return f"jdbc:postgresql://{self.host}:{self.port}/{self.dbname}"

    def datanucleus(self) -> dict[str, str]:
        return {
            "javax.jdo.option.ConnectionURL": self.jdbc_url,
            "javax.jdo.option.ConnectionDriverName": "org.postgresql.Driver",
            "javax.jdo.option.ConnectionUserName": self.user,
            "javax.jdo.option.ConnectionPassword": self.password,
            "datanucleus.schema.autoCreateAll": "false",  # create_schema made it
            "hive.metastore.schema.verification": "false",  # SchemaTool writes no VERSION row
        }


def jdbc_jar() -> Path:
    if not POSTGRES_JDBC_JAR.exists():
        raise SparkClusterError(f"the Postgres JDBC driver {POSTGRES_JDBC_JAR} is missing: `make setup` installs "
                                "Debian's libpostgresql-jdbc-java")
    return POSTGRES_JDBC_JAR


def create_schema(metastore: HiveMetastore) -> None:
    """Hive's metastore tables in the Postgres database (which must exist); a no-op where they already are."""
    jars = spark_home() / "jars"
    with tempfile.TemporaryDirectory(prefix="metastore-") as scratch:
        with zipfile.ZipFile(next(jars.glob("hive-metastore-*.jar"))) as jar:
            jdo = Path(jar.extract("package.jdo", scratch))
        properties = Path(scratch) / "datanucleus.properties"
        settings = {
            "datanucleus.ConnectionDriverName": "org.postgresql.Driver",
            "datanucleus.ConnectionURL": metastore.jdbc_url,
            "datanucleus.ConnectionUserName": metastore.user,
            "datanucleus.ConnectionPassword": metastore.password,
            "datanucleus.schema.autoCreateAll": "true",
            "datanucleus.identifierFactory": "datanucleus1",  # the table names Hive's metastore reads
            "datanucleus.rdbms.useLegacyNativeValueStrategy": "true",
        }
        properties.write_text("".join(f"{key}={value}\n" for key, value in settings.items()))
        classpath = f"{jars}/*:{jdbc_jar()}:{scratch}"
        done = subprocess.run(["java", "-cp", classpath, "org.datanucleus.store.schema.SchemaTool", "-create",
                               "-api", "JDO", "-props", str(properties), str(jdo)],
                              capture_output=True, text=True, timeout=300)
    if done.returncode != 0 or "completed successfully" not in done.stdout:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-10:])
        raise SparkClusterError(f"creating the Hive metastore in {metastore.jdbc_url} failed:\n{tail}")


def session_conf(master_url: str, metastore: HiveMetastore, lake: Path, cores: int = 2,
                 executor_memory: str = "512m", settings: Mapping[str, str] | None = None) -> dict[str, str]:
    """The settings of one Spark application on the cluster at `master_url`, cataloguing in `metastore`, with
    managed tables under `lake`/warehouse. `cores`: spark.cores.max (left unset, the first application takes every
    core and the next waits forever). `settings` (`[warehouse.spark_settings]`) go on top: a real cluster's cores,
    memory, YARN or Kubernetes settings. Shuffles get 4 partitions per core the application may use unless
    `settings` say otherwise (Spark's default, 200, costs seconds a query where data is small: AQE merges small
    partitions after a shuffle, but each map task still writes every partition)."""
    settings = {key: str(value) for key, value in (settings or {}).items()}
    cores = int(settings.get("spark.cores.max", cores))
    return {
        "spark.master": master_url,
        "spark.cores.max": str(cores),
        "spark.executor.memory": executor_memory,
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",  # progress bars would break dbt's log lines
        "spark.log.level": "ERROR",  # its warnings (a loopback hostname, Hive's unknown keys) say nothing to act on
        "spark.sql.catalogImplementation": "hive",
        "spark.sql.warehouse.dir": str(lake / "warehouse"),
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.shuffle.partitions": str(4 * cores),
        "spark.driver.extraClassPath": str(jdbc_jar()),
        **{f"spark.hadoop.{key}": value for key, value in metastore.datanucleus().items()},
        **settings,
    }


def spark_session(conf: dict[str, str], app_name: str) -> Any:
    """A Spark application with settings `conf` (session_conf) and Hive's catalog; pyspark is imported (and the
    driver's JVM started) only here."""
    import warnings

    # pandas 3 is "not fully supported": the little we hand between them (small aggregates to pandas, results
    # back through Arrow, attribution/relations.py) is compared with DuckDB's results by the Spark tests
    warnings.filterwarnings("ignore", "PySpark does not yet fully support pandas", FutureWarning)
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName(app_name)
    for key, value in conf.items():
        builder = builder.config(key, value)
    return builder.enableHiveSupport().getOrCreate()


def write_spark_defaults(conf: dict[str, str], path: Path) -> Path:
    """`conf` as a Spark properties file at `path` (readable by its owner only: it holds the metastore's password),
    which dbt's Spark session is launched with (`--properties-file`: Warehouse.dbt_env)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.chmod(0o600)
    path.write_text("".join(f"{key} {value}\n" for key, value in conf.items()))
    return path
