"""Where the data lives: one DuckDB file (the default) or a DuckLake shared by a team (catalog in Postgres
or, for one user, a local file; data as Parquet under `data_path`, a directory or an object-store URL).

Everything else asks the `Warehouse`: dlt's destination, dbt's target, connections for readers, the run
lock, where dlt keeps its working state, and the one-line label the summary prints. One dlt pipeline and
dataset (schema) per vendor in either kind.

    --warehouse warehouse.duckdb
    --warehouse "ducklake:postgres:dbname=lake host=db.internal user=loader"   (+ [warehouse] data_path)
    --warehouse ducklake:metadata.ducklake                                      (a local catalog file)
    --warehouse spark:/srv/lake     (+ [warehouse] metastore, master)   raw layer only so far (issue #36)
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dlt
import duckdb

from dlt_adapter import (
    ConnectionStringCredentials,
    DuckDbCredentials,
    DuckLakeCredentials,
    FilesystemConfiguration,
    Pipeline,
    bounded_duckdb,
    bounded_ducklake,
    resolve_configuration,
)
from warehouse import libpq
from warehouse.capabilities import capabilities_resolved_once
from warehouse.extensions import ensure_extensions
from warehouse.lake import CheckedOnceLakeCredentials, checked_instance, checked_once_ducklake
from warehouse.spark_catalog import HiveMetastore, session_conf
from warehouse.spark_lake import quiet_expected_append_fallback

DEFAULT_WAREHOUSE = "warehouse.duckdb"
DUCKLAKE = "ducklake:"
SPARK = "spark:"
DEFAULT_SPARK_MASTER = "local[2]"  # Spark inside the runner's process; a cluster's URL runs it there
POSTGRES = "postgres:"
MOTHERDUCK = "md:"
DEFAULT_LAKE_NAME = "lake"
# DuckDB's own default is 80% of the machine's memory; loads and builds spill to disk past this instead. 512MB keeps
# the build under 1.5 GiB at scale 450 and 1350 (1.15 and ~1.2 GiB with the runner; at 1GB 1.79 and 1.85) on one
# DuckDB thread (the loads on two); a bigger machine raises it and gets a thread per 350 MB (256 MB in the loads).
DEFAULT_MEMORY_LIMIT = "512MB"
# dbt's models side by side, as many as each one's share of DuckDB's memory limit stays larger than the
# warehouse file (4, 2, else 1): 19 s instead of 27 s at scale 5 on 2 cores. Side by side they share the limit,
# and their joins and aggregates ran DuckDB out of memory where one at a time they spill (scale 1350: a 1.5 GB
# file at 1 GB; scale 450: a first build of a ~0.5 GB file at 512MB, three union models at once).
DBT_THREADS = 4
# DuckDB's working memory grows with its threads (each fills its own buffers of a table being written): at scale
# 1350, int_conversions__unioned's CREATE TABLE ran out at 512MB on 2 threads (256 MB each) and built on 1, or on 2
# at 700MB (350 MB each). Below this share of the limit per thread the build gets fewer DuckDB threads than cores.
DUCKDB_BYTES_PER_THREAD = 350 * 10**6
# A load copies Parquet files into tables and picks each merge key's newest row with an aggregate that spills
# (dlt_adapter.bounded_duckdb): at 512MB, 2 threads against 1, a merge of 4.1M rows onto 4.1M (scale 1350's sale
# credits) peaked at 0.73 GiB either way; 2.5M rows of 47 columns loaded in 31 s instead of 39 (0.88 GiB against
# 0.78) and merged onto as many in 29 s instead of 42 (0.77 both); a million-row Integr8 export ~2 s faster of ~8
# (`--only export`). So the loads get a thread per 256 MB of the limit, the build one per 350 MB.
LOAD_BYTES_PER_THREAD = 256 * 10**6
SIZE_UNITS = {"b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
              "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}
LOADER_FILE_FORMAT = "parquet"  # insert_values is ~10x slower on DuckDB
DUCKDB_MAGIC = b"DUCK"  # bytes 8-12 of every DuckDB database file
LIBPQ_KEYS = {"dbname": "database", "host": "host", "port": "port", "user": "username", "password": "password"}


class WarehouseConfigError(ValueError):
    pass


@dataclass(frozen=True)
class Warehouse:
    location: str  # a DuckDB file, or "ducklake:<catalog>"
    data_path: str | None = None  # DuckLake only: where the Parquet files go
    name: str = DEFAULT_LAKE_NAME  # DuckLake only: attach alias, and the metadata schema in Postgres
    state_dir: str | None = None  # DuckLake only: dlt's working state on this machine
    memory_limit: str = DEFAULT_MEMORY_LIMIT  # DuckDB's memory limit while dlt loads and dbt builds
    threads: int | None = None  # dbt's models side by side (dbt_threads); None: by the warehouse's size
    keep_open: bool | None = None  # file only: dbt's DuckDB open for the whole build (dbt_keep_open); None: by size
    master: str = DEFAULT_SPARK_MASTER  # Spark only: where its applications run
    metastore: str | None = None  # Spark only: the Hive metastore's Postgres database (libpq key=value)
    spark_settings: tuple[tuple[str, str], ...] = ()  # Spark only: `[warehouse.spark_settings]`, on top of ours

    @classmethod
    def configured(cls, location: str | os.PathLike[str] | None = None) -> Warehouse:
        """`location` (e.g. `--warehouse`), else `[warehouse] location` (config.toml or secrets.toml, or
        WAREHOUSE__LOCATION), else warehouse.duckdb; the DuckLake settings from `[warehouse]`."""
        return cls(
            location=str(location or dlt.config.get("warehouse.location", str) or DEFAULT_WAREHOUSE),
            data_path=dlt.config.get("warehouse.data_path", str),
            name=dlt.config.get("warehouse.name", str) or DEFAULT_LAKE_NAME,
            state_dir=dlt.config.get("warehouse.state_dir", str),
            memory_limit=dlt.config.get("warehouse.memory_limit", str) or DEFAULT_MEMORY_LIMIT,
            threads=dlt.config.get("warehouse.threads", int),
            keep_open=dlt.config.get("warehouse.keep_open", bool),
            master=dlt.config.get("warehouse.master", str) or DEFAULT_SPARK_MASTER,
            metastore=dlt.config.get("warehouse.metastore", str),
            spark_settings=tuple((str(key), str(value)) for key, value
                                 in (dlt.config.get("warehouse.spark_settings", dict) or {}).items()),
        ).checked()

    def checked(self) -> Warehouse:
        if self.is_spark:
            if not self.location[len(SPARK):]:
                raise WarehouseConfigError(f"--warehouse {self.location!r}: name the lake's directory after 'spark:'")
            if not self.metastore:
                raise WarehouseConfigError("a Spark warehouse needs its Hive metastore: set [warehouse] metastore "
                                           "(or WAREHOUSE__METASTORE) to a Postgres database's libpq settings, "
                                           "e.g. 'dbname=metastore host=db.internal user=spark'")
        if self.is_lake:
            if not self.catalog:
                raise WarehouseConfigError(f"--warehouse {self.location!r}: name a catalog after 'ducklake:'")
            if self.is_remote and not self.data_path:
                raise WarehouseConfigError("a DuckLake with a server catalog needs a data path: set "
                                           "[warehouse] data_path (or WAREHOUSE__DATA_PATH) to a directory or "
                                           "object-store URL that every runner and reader can reach")
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", self.name):
                raise WarehouseConfigError(f"[warehouse] name {self.name!r} must be a plain SQL identifier")
        return self

    def file_problem(self) -> str | None:
        """Why the warehouse's file cannot be the warehouse (its directory is missing, or something that is not a
        DuckDB database is there), or None. A new file in an existing directory is fine: the first run makes it."""
        if self.is_remote:
            return None
        path = self.path
        if not path.parent.is_dir():
            return f"the directory {path.parent} does not exist (create it, or choose another path)"
        if self.is_spark:
            return f"{path} is not a directory" if path.exists() and not path.is_dir() else None
        if path.exists():
            try:
                with path.open("rb") as file:
                    header = file.read(12)
            except OSError as exc:
                return f"{path} cannot be read: {exc.strerror}"
            if header[8:12] != DUCKDB_MAGIC:
                return f"{path} is not a DuckDB database"
        return None

    # --- what it is --------------------------------------------------------------------------------
    @property
    def is_lake(self) -> bool:
        return self.location.startswith(DUCKLAKE)

    @property
    def is_spark(self) -> bool:
        return self.location.startswith(SPARK)

    @property
    def catalog(self) -> str:
        return self.location[len(DUCKLAKE):] if self.is_lake else ""

    @property
    def is_postgres(self) -> bool:
        return self.catalog.startswith(POSTGRES)

    @property
    def is_remote(self) -> bool:
        """A catalog on a server (Postgres, MotherDuck): no local file, shared by several machines."""
        return self.is_postgres or self.catalog.startswith(MOTHERDUCK)

    @property
    def path(self) -> Path:
        """The DuckDB file; for a DuckLake with a local catalog, the catalog file."""
        if self.is_remote:
            raise WarehouseConfigError(f"{self.label()} has no local file")
        if self.is_spark:  # the lake's directory: raw/ (dlt's Parquet), warehouse/ (Spark's managed tables)
            return Path(self.location[len(SPARK):]).resolve()
        return Path(self.catalog if self.is_lake else self.location).resolve()

    @property
    def lake_data_path(self) -> str:
        return self.data_path or f"{self.path}.files/"

    def extensions(self) -> tuple[str, ...]:
        return ("ducklake", "postgres") if self.is_postgres else ("ducklake",) if self.is_lake else ()

    @property
    def checks_extensions_once(self) -> bool:
        """A lake whose connections need no extension but `extensions()` (not MotherDuck's, not an object
        store's): its connections load those, checked once per process (warehouse.lake)."""
        url = self.lake_data_path
        return self.is_lake and not self.catalog.startswith(MOTHERDUCK) and ("://" not in url
                                                                               or url.startswith("file://"))

    def label(self) -> str:
        """What the summary prints: the file, or the lake without its password."""
        if self.is_spark:
            return f"Spark lake {self.path} (master {self.master}; metastore {libpq.redacted(self.metastore or '')})"
        if not self.is_lake:
            return self.location
        return f"DuckLake {self.name} (catalog {libpq.redacted(self.catalog)}; data {self.lake_data_path})"

    def libpq(self) -> dict[str, str]:
        """The Postgres catalog's `key=value` connection settings."""
        return libpq.settings(self.catalog[len(POSTGRES):])

    # --- dlt ------------------------------------------------------------------------------------------
    def local_dir(self) -> Path:
        """This machine's directory for the warehouse's working files (dlt state, the file lock)."""
        if self.state_dir:
            return Path(self.state_dir).resolve()
        if self.is_remote:
            return Path.cwd() / f".{self.name}.dlt"
        return self.path.parent

    def pipelines_dir(self) -> str:
        """dlt's working state, keyed on the warehouse's whole name, so `w.duckdb` and `w.db` never share it."""
        if self.is_remote:
            return str(self.local_dir())
        return str(self.local_dir() / f".{self.path.name}.dlt")

    def dbt_dir(self) -> Path:
        """dbt's target and logs for this warehouse: its partial parse survives from one build to the next, and
        builds of two warehouses from one checkout never overwrite each other's manifest or run results."""
        return self.local_dir() / ("dbt" if self.is_remote else f".{self.path.name}.dbt")

    @property
    def raw_path(self) -> Path:
        """Spark only: where dlt writes each vendor's tables as Parquet (warehouse/spark_lake.py)."""
        return self.path / "raw"

    def spark_conf(self) -> dict[str, str]:
        """Spark only: an application's settings on this warehouse (its master, metastore and lake, then
        `[warehouse.spark_settings]`)."""
        return session_conf(self.master, self.hive_metastore(), self.path, settings=dict(self.spark_settings))

    def spark_defaults_file(self) -> Path:
        """Spark only: where the runner writes the settings of dbt's Spark session (see dbt_env)."""
        return self.dbt_dir() / "spark-conf" / "spark-defaults.conf"

    def hive_metastore(self) -> HiveMetastore:
        """Spark only: the shared catalog, from `[warehouse] metastore`."""
        return HiveMetastore.from_libpq(self.metastore or "")

    def destination(self) -> Any:
        if self.is_spark:  # append-only Parquet: a merge falls back to append (the lake's views merge)
            quiet_expected_append_fallback()
            return dlt.destinations.filesystem(bucket_url=str(self.raw_path))
        settings = self.duckdb_settings()
        if not self.is_lake:
            return capabilities_resolved_once(
                bounded_duckdb(DuckDbCredentials(str(self.path), global_config=settings)))
        ensure_extensions(self.extensions())
        kind, destination = ((CheckedOnceLakeCredentials, checked_once_ducklake) if self.checks_extensions_once
                             else (DuckLakeCredentials, bounded_ducklake))
        credentials = kind(ducklake_name=self.name, catalog=self._dlt_catalog(), storage=self._dlt_storage())
        if isinstance(credentials, CheckedOnceLakeCredentials):
            credentials.lake_extensions = list(self.extensions())
        credentials.global_config = settings
        return capabilities_resolved_once(  # named "ducklake" either way: its config section
            destination(credentials=credentials, destination_name="ducklake"))

    def _dlt_storage(self) -> str | FilesystemConfiguration:
        """A directory as is; an object-store URL with its credentials from [warehouse.storage.credentials]
        (e.g. WAREHOUSE__STORAGE__CREDENTIALS__AWS_ACCESS_KEY_ID), resolved as dlt resolves any bucket's."""
        url = self.lake_data_path
        if "://" not in url or url.startswith("file://"):
            return url
        return resolve_configuration(FilesystemConfiguration(bucket_url=url), sections=("warehouse", "storage"))

    def _dlt_catalog(self) -> ConnectionStringCredentials:
        if self.is_postgres:
            settings = {LIBPQ_KEYS[k]: v for k, v in self.libpq().items() if k in LIBPQ_KEYS}
            if "port" in settings:
                settings["port"] = int(settings["port"])
            return ConnectionStringCredentials({"drivername": "postgres", **settings})
        if self.is_remote:
            return ConnectionStringCredentials({"drivername": "md", "database": self.catalog[len(MOTHERDUCK):]})
        return ConnectionStringCredentials({"drivername": "duckdb", "database": str(self.path)})

    # --- readers and dbt -------------------------------------------------------------------------------
    def attach_sql(self, alias: str, read_only: bool = True) -> str:
        options = ["READ_ONLY"] if read_only else []
        if self.is_lake:
            options.append(f"DATA_PATH {literal(self.lake_data_path)}")
            if self.is_postgres:
                options.append(f"METADATA_SCHEMA {literal(self.name)}")
        target = self.location if self.is_lake else str(self.path)
        return f"ATTACH {literal(target)} AS {alias}" + (f" ({', '.join(options)})" if options else "")

    def connect(self, read_only: bool = True) -> duckdb.DuckDBPyConnection:
        """A connection whose default catalog is the warehouse: `select * from marts.conversions` works."""
        if self.is_spark:
            raise WarehouseConfigError(f"{self.label()} is read with Spark SQL (its tables are in the metastore), "
                                       "or through its publication (<lake>_published/snapshot.duckdb)")
        if not self.is_lake:
            return duckdb.connect(str(self.path), read_only=read_only)
        if self.checks_extensions_once:
            con = checked_instance(self.extensions())
        else:
            ensure_extensions(self.extensions())
            con = duckdb.connect()
        try:
            con.execute(self.attach_sql(self.name, read_only))
            con.execute(f"USE {self.name}")
        except BaseException:
            con.close()
            raise
        return con

    @contextlib.contextmanager
    def kept_open(self) -> Iterator[Callable[[], None]]:
        """Keep a DuckDB file's database open in this process for the block: dlt opens a connection for every
        client it makes (state sync, fingerprints, each load), and each is then a new connection to the open
        database (~2 ms) instead of the file opened anew (~65 ms, read from its catalog). Connections of
        other processes are refused for the block, as they are while a load writes; a file another process
        holds raises here (one cause for the run, not one per vendor).

        Yields `reopen`, which opens the database anew: DuckDB keeps the blocks its queries read and wrote in its
        buffer pool (up to `memory_limit`) for as long as the database is open, and reopened when no other
        connection of the process holds it, the pool starts empty. Call it between loads (the runner does after
        each vendor's load, under its load lock): a finished load's blocks then no longer sit beside the other
        vendors' extracts (scale 1350: ClickMagick's normalize ran on top of what Integr8's load left)."""
        # The configuration dlt's connections use: read-write, no options. A lake is attached per connection.
        # A file another process holds fails here, once for the run, before any vendor starts.
        con = None if self.is_lake or self.is_spark else duckdb.connect(str(self.path))

        def reopen() -> None:
            nonlocal con
            if con is not None:
                con.close()  # the database closes here unless another connection still holds it
                con = duckdb.connect(str(self.path))

        try:
            yield reopen
        finally:
            if con is not None:
                con.close()

    def dbt_workdir(self) -> Path | None:
        """Where dbt runs for a warehouse file: beside it, so that the profile names it without a directory.
        dbt's partial parse hashes the profile, so a warehouse copied or moved with its dbt directory keeps
        its parse (a full parse costs a build about 7 s). None for a lake: its settings are used as given."""
        return None if self.is_lake else self.path.parent

    def dbt_threads(self, data_bytes: int | None = None) -> int:
        """How many models dbt builds side by side: for a lake 1 (more is not tested against a shared catalog); for
        a file `threads` when set, else DBT_THREADS, or half as many, while the file's data (data_bytes) are
        smaller than each model's share of `memory_limit` (the limit / threads), else 1; on Spark `threads`, else
        DBT_THREADS (the cluster holds the data and does the work). `data_bytes`: the file's, when already measured."""
        if self.is_lake:
            return 1
        if self.threads:
            return self.threads
        if self.is_spark:
            return DBT_THREADS
        limit = size_bytes(self.memory_limit)
        if limit is None:
            return DBT_THREADS
        size = self.data_bytes() if data_bytes is None else data_bytes
        return next((n for n in (DBT_THREADS, DBT_THREADS // 2) if size * n < limit), 1)

    def dbt_keep_open(self, data_bytes: int | None = None) -> bool:
        """Whether dbt keeps the warehouse file open from its first node to its last (dbt-duckdb's `keep_open`):
        `keep_open` when set, else while the file's data (data_bytes) fit in `memory_limit`. Past that, dbt opens it
        anew for each node and closes it after: what DuckDB keeps of the tables a node read or wrote (their row
        groups' metadata, the marks of deleted rows, what a checkpoint loads) lives outside `memory_limit` for as
        long as the database is open, and grows with the data; a daily build at scale 450 left 0.2-0.4 GiB of it
        between nodes (2026-12-06); glibc keeps what a closed DuckDB freed until the C heap is trimmed, which the
        profile's plugin does before each open (transforms/plugins/duckdb_heap.py). The price is each node's open and
        a cold cache: a build at scale 450 took a third longer. `data_bytes`: the file's, when already measured."""
        if self.keep_open is not None:
            return self.keep_open
        limit = size_bytes(self.memory_limit)
        return limit is None or (self.data_bytes() if data_bytes is None else data_bytes) <= limit

    def data_bytes(self) -> int:
        """The bytes a DuckDB file's data take: its used blocks and its WAL. A rebuild leaves the old tables' blocks
        free in the file, which later writes reuse but which never shrink it (scale 45: 332 MiB, 143 of them free).
        A file another process holds (or this one, opened otherwise) counts by its size on disk."""
        if not self.path.exists():
            return 0
        wal = self.path.with_name(self.path.name + ".wal")
        try:
            with duckdb.connect(str(self.path), read_only=True) as con:
                block_size, used = con.execute(
                    "select block_size, used_blocks from pragma_database_size() where database_name = "
                    "current_database()").fetchone()
        except duckdb.Error:
            return self.path.stat().st_size
        return block_size * used + (wal.stat().st_size if wal.exists() else 0)

    def duckdb_threads(self, per_thread: int = DUCKDB_BYTES_PER_THREAD) -> int:
        """DuckDB's threads in the build (in the loads with LOAD_BYTES_PER_THREAD): one per core, as long as
        `memory_limit` leaves each `per_thread` bytes; at least one."""
        cores = os.cpu_count() or 1
        limit = size_bytes(self.memory_limit)
        return cores if limit is None else max(1, min(cores, limit // per_thread))

    def duckdb_settings(self) -> dict[str, Any]:
        """DuckDB's settings while dlt loads into this warehouse: `memory_limit` and the threads it allows a load."""
        return {"memory_limit": self.memory_limit, "threads": self.duckdb_threads(LOAD_BYTES_PER_THREAD)}

    def dbt_env(self) -> dict[str, str]:
        """The variables transforms/profiles.yml reads for this warehouse's target, where dbt writes, and DuckDB's
        memory limit in dbt (the loads' own: one setting)."""
        size = None if self.is_lake or self.is_spark else self.data_bytes()  # a file's, measured once for both
        paths = {"DBT_TARGET_PATH": str(self.dbt_dir() / "target"), "DBT_LOG_PATH": str(self.dbt_dir() / "logs"),
                 "DBT_DUCKDB_MEMORY_LIMIT": self.memory_limit, "DBT_DUCKDB_THREADS": str(self.duckdb_threads()),
                 "DBT_THREADS": str(self.dbt_threads(size))}
        if self.is_spark:
            # dbt's Spark session is launched with the file the runner writes (write_spark_defaults) as its
            # properties, not with a conf directory of its own: SPARK_CONF_DIR would come first on the driver's
            # classpath, and a JVM whose classpath differs from the class-data archive's maps nothing. The
            # user's own PYSPARK_SUBMIT_ARGS (--jars, --packages, ...) follow ours.
            theirs = shlex.split(os.environ.get("PYSPARK_SUBMIT_ARGS", ""))
            theirs = theirs[:-1] if theirs[-1:] == ["pyspark-shell"] else theirs
            launch = ["--properties-file", str(self.spark_defaults_file()), *theirs, "pyspark-shell"]
            return {**paths, "DBT_TARGET": "spark", "PYSPARK_SUBMIT_ARGS": shlex.join(launch)}
        if not self.is_lake:  # the bare name: dbt runs in dbt_workdir()
            return {**paths, "WAREHOUSE_PATH": self.path.name, "DBT_TARGET": "warehouse",
                    "DBT_DUCKDB_KEEP_OPEN": str(self.dbt_keep_open(size))}
        return {**paths, "DBT_TARGET": "ducklake", "WAREHOUSE_LAKE_CATALOG": self.location,
                "WAREHOUSE_LAKE_NAME": self.name, "WAREHOUSE_LAKE_DATA_PATH": self.lake_data_path,
                "WAREHOUSE_LAKE_METADATA_SCHEMA": self.name if self.is_postgres else "main"}


def size_bytes(size: str) -> int | None:
    """A DuckDB size setting ("1GB", "512 MiB") in bytes, or None when it is not one."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?i?b)\s*", size, re.IGNORECASE)
    if not match or match[2].lower() not in SIZE_UNITS:
        return None
    return int(float(match[1]) * SIZE_UNITS[match[2].lower()])


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def quote(identifier: str) -> str:
    """A DuckDB identifier, quoted."""
    return '"' + identifier.replace('"', '""') + '"'


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str, catalog: str | None = None) -> bool:
    """Whether the connection's warehouse (its current database, or the one attached as `catalog`) holds
    `schema.table`."""
    return bool(con.execute("select count(*) from duckdb_tables() where database_name = coalesce(?, "
                            "current_database()) and schema_name = ? and table_name = ?",
                            [catalog, schema, table]).fetchone()[0])


def as_warehouse(warehouse: Warehouse | str | os.PathLike[str]) -> Warehouse:
    return warehouse if isinstance(warehouse, Warehouse) else Warehouse(str(warehouse)).checked()


def pipelines_dir(warehouse: Warehouse | str | os.PathLike[str]) -> str:
    return as_warehouse(warehouse).pipelines_dir()


def make_pipeline(vendor: str, warehouse: Warehouse | str | os.PathLike[str] = DEFAULT_WAREHOUSE) -> Pipeline:
    wh = as_warehouse(warehouse)
    return dlt.pipeline(
        pipeline_name=f"attribution_{vendor}",
        destination=wh.destination(),
        dataset_name=vendor,
        pipelines_dir=wh.pipelines_dir(),
        progress="log" if sys.stdout.isatty() else None,  # dlt writes progress to stdout
    )
