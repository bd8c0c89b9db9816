"""A standalone Apache Spark cluster on this machine: one master and N workers on 127.0.0.1, started from the
runtime that the `pyspark` wheel ships, each process stopped by its own pid.

The wheel has `sbin/spark-daemon.sh` but no `start-master.sh`, so the daemons are started as Spark's own scripts
start them: `spark-daemon.sh start <class> <instance> <args>`. Each cluster keeps its pid files, logs and worker
directories under its own root, on its own free ports (the master's REST submission server, on a fixed port by
default, is off), so several clusters (parallel tests) never meet.

    with local_cluster(workers=2) as cluster:
        SparkSession.builder.master(cluster.master_url) ...

A real cluster (YARN, Kubernetes, a standalone cluster elsewhere) needs none of this: only its master URL.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from warehouse.spark_class_cache import archive, archive_options, make_archive, remove_other_archives

MASTER = "org.apache.spark.deploy.master.Master"
WORKER = "org.apache.spark.deploy.worker.Worker"
REGISTRATION_TIMEOUT_S = 120.0  # two JVMs start on a loaded 2-core box in ~10 s; a busy CI is slower
STOP_GRACE_S = 10.0
# The JVMs of a throwaway cluster on this machine (its daemons, and the drivers and executors of its applications:
# SparkCluster.app_settings) live minutes over small data: compiling with C1 only and one serial collector, the
# Spark test module spent 450 CPU-s instead of 640 (299 s instead of 358 on 2 cores), dbt's build on it 110 s
# instead of 143. A long-lived cluster over big data wants the JIT's C2 and its own collector: left as they are.
SMALL_JVM_OPTIONS = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -XX:CICompilerCount=1"
# Its applications run hundreds of small queries (dbt's models and data tests): generating and compiling Java for
# each query's whole stage costs more than it saves on a few thousand rows. Off, the Spark test module's JVMs used
# ~330 CPU-s instead of ~360 (297 and 304 s instead of 339 alone on 2 cores); 2 shuffle partitions did not help.
SMALL_SQL_SETTINGS = {"spark.sql.codegen.wholeStage": "false"}
POSTGRES_JDBC_JAR = Path("/usr/share/java/postgresql.jar")  # the metastore's driver (libpostgresql-jdbc-java)
# What comes before Spark's jars on a JVM's classpath, by the class-data archive it maps (spark_class_cache.py):
# executors and the daemons nothing, drivers the JDBC driver (spark.driver.extraClassPath)
ARCHIVED_CLASSPATHS: dict[str, tuple[Path, ...]] = {"executor": (), "driver": (POSTGRES_JDBC_JAR,)}


class SparkClusterError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spark_home() -> Path:
    """The Spark runtime inside the installed `pyspark` wheel (its jars, bin/ and sbin/)."""
    spec = importlib.util.find_spec("pyspark")
    if spec is None or spec.origin is None:
        raise SparkClusterError("pyspark is not installed: `make setup` installs it")
    return Path(spec.origin).parent


@functools.cache
def class_archives() -> dict[str, Path]:
    """The class-data archives (warehouse/spark_class_cache.py) for this machine's Java and Spark: one for executors
    and daemons (Spark's jars), one for drivers (the JDBC driver first on their classpath)."""
    home = spark_home()
    return {kind: archive(kind, classpath, home) for kind, classpath in ARCHIVED_CLASSPATHS.items()}


def jvm_options(class_archive: Path) -> str:
    return f"{SMALL_JVM_OPTIONS} {archive_options(class_archive)}".strip()


def make_class_archives() -> dict[str, Path]:
    """Makes the class-data archives that are missing (`make setup`), each with a small local application, and
    removes those of an earlier Java or Spark."""
    made = {kind: make_archive(path, ARCHIVED_CLASSPATHS[kind], SMALL_JVM_OPTIONS)
            for kind, path in class_archives().items()}
    remove_other_archives(list(made.values()))
    return made


def java_problem() -> str | None:
    """Why Spark cannot start here (no Java), or None."""
    if os.environ.get("JAVA_HOME") or shutil.which("java"):
        return None
    return "Spark needs Java 17 or newer: install it (Debian: openjdk-17-jre-headless) or set JAVA_HOME"


@dataclass
class SparkCluster:
    """A running local cluster: where its master listens, and the pid of each of its processes."""

    root: Path
    master_port: int
    web_port: int
    workers: int
    pids: dict[str, int] = field(default_factory=dict)  # "master", "worker-1", ...

    @property
    def master_url(self) -> str:
        return f"spark://127.0.0.1:{self.master_port}"

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def app_settings(self) -> dict[str, str]:
        """What an application on this cluster sets (`[warehouse.spark_settings]`): its driver's and executors'
        JVMs sized for short work over small data, as the daemons' are, starting from this machine's class-data
        archives where `make setup` made them, and its queries run without whole-stage code generation."""
        archives = class_archives()
        return {**{f"spark.{jvm}.extraJavaOptions": jvm_options(archives[jvm]) for jvm in ("driver", "executor")},
                **SMALL_SQL_SETTINGS}

    def status(self) -> dict:
        """The master's own account of the cluster (workers, cores, applications): its web UI's JSON."""
        with urllib.request.urlopen(f"{self.web_url}/json/", timeout=5) as response:
            return json.load(response)

    def alive_workers(self) -> int:
        try:
            return int(self.status().get("aliveworkers", 0))
        except (OSError, urllib.error.URLError, ValueError):
            return 0  # the master's web UI is not up yet

    def running(self) -> dict[str, int]:
        return {name: pid for name, pid in self.pids.items() if process_running(pid)}

    def logs(self) -> str:
        """The tail of every daemon's log: what a failed start says."""
        tails = []
        for log in sorted((self.root / "logs").glob("*.out")):
            lines = log.read_text(errors="replace").splitlines()
            tails.append(f"--- {log.name}\n" + "\n".join(lines[-15:]))
        return "\n".join(tails)


def process_running(pid: int) -> bool:
    """The process exists and is not a zombie (an exited daemon whose new parent, here PID 1, has not reaped it)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError):
        if Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z":
            return False
    return True


def _environment(cluster: SparkCluster) -> dict[str, str]:
    return {
        **os.environ,
        "SPARK_HOME": str(spark_home()),
        "SPARK_LOG_DIR": str(cluster.root / "logs"),
        "SPARK_PID_DIR": str(cluster.root / "pids"),
        "SPARK_WORKER_DIR": str(cluster.root / "work"),
        "SPARK_IDENT_STRING": cluster.root.name,
        "SPARK_LOCAL_IP": "127.0.0.1",
        # no REST submission server (a fixed port, 6066, that a second cluster would collide on)
        "SPARK_MASTER_OPTS": "-Dspark.master.rest.enabled=false",
        "SPARK_DAEMON_JAVA_OPTS": jvm_options(class_archives()["executor"]),
    }


def _start_daemon(cluster: SparkCluster, name: str, main_class: str, instance: int, *args: str) -> None:
    daemon = spark_home() / "sbin" / "spark-daemon.sh"
    said = cluster.root / "logs" / f"start-{name}.txt"
    with said.open("w") as output:  # a file, not a pipe: the daemon it leaves behind would hold a pipe open
        done = subprocess.run(["bash", str(daemon), "start", main_class, str(instance), *args],
                              env=_environment(cluster), stdout=output, stderr=subprocess.STDOUT, timeout=60)
    pid_files = list((cluster.root / "pids").glob(f"*{main_class}-{instance}.pid"))
    if done.returncode != 0 or not pid_files:
        raise SparkClusterError(f"Spark's {name} did not start: {said.read_text().strip()}\n{cluster.logs()}")
    cluster.pids[name] = int(pid_files[0].read_text().strip())


def start_cluster(workers: int = 2, cores_per_worker: int = 1, memory_per_worker: str = "1g",
                  root: Path | None = None) -> SparkCluster:
    """A master and `workers` workers, returned once every worker has registered with the master."""
    if problem := java_problem():
        raise SparkClusterError(problem)
    root = Path(root or tempfile.mkdtemp(prefix="spark-"))
    for sub in ("logs", "pids", "work"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    cluster = SparkCluster(root=root, master_port=free_port(), web_port=free_port(), workers=workers)
    try:
        _start_daemon(cluster, "master", MASTER, 1, "--host", "127.0.0.1", "--port", str(cluster.master_port),
                      "--webui-port", str(cluster.web_port))
        for n in range(1, workers + 1):
            _start_daemon(cluster, f"worker-{n}", WORKER, n, "--host", "127.0.0.1", "--cores", str(cores_per_worker),
                          "--memory", memory_per_worker, "--webui-port", str(free_port()),
                          "--work-dir", str(root / "work"), cluster.master_url)
        wait_for_workers(cluster)
    except BaseException:
        stop_cluster(cluster)
        raise
    return cluster


def wait_for_workers(cluster: SparkCluster, timeout_s: float = REGISTRATION_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while (alive := cluster.alive_workers()) < cluster.workers:
        if dead := sorted(set(cluster.pids) - set(cluster.running())):
            raise SparkClusterError(f"Spark's {', '.join(dead)} stopped while the cluster started:\n{cluster.logs()}")
        if time.monotonic() > deadline:
            raise SparkClusterError(f"{alive} of {cluster.workers} Spark workers registered with the master in "
                                    f"{timeout_s:.0f} s:\n{cluster.logs()}")
        time.sleep(0.5)


def stop_cluster(cluster: SparkCluster, grace_s: float = STOP_GRACE_S) -> None:
    """Each process by its pid: SIGTERM, then SIGKILL after `grace_s`; workers first, so none outlives its master
    trying to reconnect. The executors that workers started die with them (they are their children)."""
    order = sorted(cluster.pids, key=lambda name: name == "master")
    for name in order:
        with contextlib.suppress(ProcessLookupError):
            os.kill(cluster.pids[name], signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while cluster.running() and time.monotonic() < deadline:
        time.sleep(0.2)
    for pid in cluster.running().values():
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


@contextlib.contextmanager
def local_cluster(workers: int = 2, cores_per_worker: int = 1, memory_per_worker: str = "1g",
                  keep_root: bool = False) -> Iterator[SparkCluster]:
    cluster = start_cluster(workers, cores_per_worker, memory_per_worker)
    try:
        yield cluster
    finally:
        stop_cluster(cluster)
        if not keep_root:
            shutil.rmtree(cluster.root, ignore_errors=True)
