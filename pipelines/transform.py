"""Build the dbt project in `transforms/` against the warehouse file (after the loads, never during)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from dlt_adapter import interruptible_sleep, signal_received
from pipelines.child import die_with_parent
from pipelines.errors import describe
from pipelines.fingerprint import table_fingerprints
from pipelines.registry import SOURCES
from warehouse import Warehouse, as_warehouse, table_exists
from warehouse.project import TRANSFORMS

log = logging.getLogger("pipelines.transform")
# What a build depends on besides the loaded data: the dbt project and the algorithms its Python models import.
BUILD_SOURCES = (TRANSFORMS, TRANSFORMS.parent / "attribution")
BUILD_SOURCE_SKIPPED = {"target", "logs", "dbt_packages", "__pycache__", ".user.yml"}
BUILDS = "runner.builds"  # one row per successful full build: what it was built from
PARSE = "partial_parse.msgpack"
# dbt's heading of a node's error message ("Runtime Error in model x (models/x.sql)"); the cause follows it.
NODE_ERROR_HEADING = re.compile(r"^[A-Z][A-Za-z ]* in (model|test|seed|snapshot|unit_test|operation|sql_operation) ")
WHERE_DBT_WRITES = {"DBT_TARGET_PATH", "DBT_LOG_PATH", "PYSPARK_SUBMIT_ARGS"}  # per warehouse, not read by the profile


@dataclass
class TransformResult:
    status: str  # "built", "unchanged" (nothing to build), "failed", "skipped" or "interrupted"
    seconds: float
    detail: str


def dbt_command(*args: str) -> list[str]:
    """`dbt <args>` on this project, with its own profiles: the runner's build, `python -m pipelines.dbt`, tests."""
    return [dbt_executable(), "--no-use-colors", *args, "--project-dir", str(TRANSFORMS), "--profiles-dir",
            str(TRANSFORMS)]


def dbt_executable() -> str:
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"


def dbt_environment(warehouse: Warehouse | str) -> dict[str, str]:
    """What any dbt command on this project needs: the warehouse's target, and the repo on the path."""
    return {
        **os.environ,
        **as_warehouse(warehouse).dbt_env(),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        # The Python models import the algorithms from the repo's `attribution` package; dbt finds the project's
        # own adapter (type spark_session) as dbt.adapters.spark_session under transforms/plugins.
        "PYTHONPATH": os.pathsep.join(filter(None, [str(TRANSFORMS.parent), str(TRANSFORMS / "plugins"),
                                                    os.environ.get("PYTHONPATH")])),
    }


def dbt_cwd(warehouse: Warehouse | str) -> Path:
    """Where any dbt command on this project runs for the warehouse (see Warehouse.dbt_workdir)."""
    return as_warehouse(warehouse).dbt_workdir() or TRANSFORMS


def shared_parse(warehouse: Warehouse) -> Path:
    """This checkout's last parse for warehouses whose dbt profile reads as this one's (the same target, file name
    and settings: dbt parses in full where the profile differs), which a new warehouse's first dbt command starts
    from."""
    env = warehouse.dbt_env()
    profile = {key: value for key, value in env.items() if key not in WHERE_DBT_WRITES}
    key = hashlib.sha256(json.dumps(profile, sort_keys=True).encode()).hexdigest()[:12]
    return TRANSFORMS / "target" / f"partial_parse.{env['DBT_TARGET']}.{key}.msgpack"


def start_from_shared_parse(warehouse: Warehouse, target: Path | None = None) -> None:
    """A dbt target (the warehouse's own unless `target`) without a parse of its own gets the checkout's last one:
    dbt checks it against the project's files, the vars and the profile, reparses what changed and parses in full
    where the profile or vars differ. A new warehouse's first build then costs ~4 CPU-s less (of ~22 at the test
    scale), saved on every new warehouse of a team that builds many from one checkout."""
    target = target or warehouse.dbt_dir() / "target"
    if (target / PARSE).exists() or not (shared := shared_parse(warehouse)).exists():
        return
    try:
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shared, target / PARSE)
    except OSError as exc:  # an empty target parses in full, as without the shared parse
        log.debug("could not start from the shared dbt parse: %s", describe(exc))


def share_parse(warehouse: Warehouse) -> None:
    """The warehouse's parse as the checkout's last one, after a successful dbt command without --vars (whose
    parse a default build could not reuse). Written whole, then renamed: builds run side by side."""
    shared = shared_parse(warehouse)
    partial = shared.with_name(f".{shared.name}.{os.getpid()}")
    try:
        shared.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(warehouse.dbt_dir() / "target" / PARSE, partial)
        os.replace(partial, shared)
    except OSError as exc:  # a read-only checkout: each new warehouse parses in full
        log.debug("could not share the dbt parse: %s", describe(exc))
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)


def missing_datasets(warehouse: Warehouse) -> list[str]:
    with warehouse.connect(read_only=True) as con:
        rows = con.execute("select distinct schema_name from duckdb_tables() where database_name = current_database()"
                           ).fetchall()
    present = {row[0] for row in rows}
    return [name for name in SOURCES if name not in present]


def project_digest(variables: dict[str, object] | None = None) -> str:
    """The dbt project, the `attribution` package, the target and the vars: a change to any means a rebuild."""
    digest = hashlib.sha256(json.dumps([os.environ.get("DBT_TARGET"), variables], sort_keys=True).encode())
    for root in BUILD_SOURCES:
        for path in sorted(root.rglob("*")):
            if path.is_file() and not BUILD_SOURCE_SKIPPED.intersection(path.relative_to(root).parts):
                digest.update(str(path.relative_to(root.parent)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def inputs_digest(con: duckdb.DuckDBPyConnection) -> str:
    """The content of every vendor dataset (fingerprints leave out load ids: a re-merged identical row is no
    change)."""
    return hashlib.sha256(json.dumps(table_fingerprints(con, SOURCES), sort_keys=True).encode()).hexdigest()


def last_build(con: duckdb.DuckDBPyConnection) -> tuple[str, str] | None:
    if not table_exists(con, *BUILDS.split(".")):
        return None
    row = con.execute(f"select project_digest, inputs_digest from {BUILDS} order by built_at desc limit 1").fetchone()
    return (row[0], row[1]) if row else None


def last_build_id(con: duckdb.DuckDBPyConnection, catalog: str | None = None) -> str | None:
    """Which successful full build the warehouse's marts are (when it was built, from what), or None if no build
    was recorded. `catalog`: the warehouse attached under that name on `con`, else `con`'s own."""
    if not table_exists(con, *BUILDS.split("."), catalog=catalog):
        return None
    table = f"{catalog}.{BUILDS}" if catalog else BUILDS
    row = con.execute(f"select built_at, project_digest, inputs_digest from {table} order by built_at desc limit 1"
                      ).fetchone()
    return None if row is None else f"{row[0].isoformat()} {row[1][:12]} {row[2][:12]}"


def record_build(warehouse: Warehouse, digests: tuple[str, str]) -> None:
    with warehouse.connect(read_only=False) as con:
        con.execute(f"create schema if not exists {BUILDS.split('.')[0]}")
        con.execute(f"create table if not exists {BUILDS} (project_digest varchar, inputs_digest varchar, "
                    "built_at timestamptz)")
        con.execute(f"insert into {BUILDS} values (?, ?, now())", list(digests))


DISK_FULL = ("No space left on device", "Errno 28", "ENOSPC", "disk is full", "Disk full")


def last_run_results(warehouse: Warehouse | str) -> dict[str, Any]:
    """dbt's record of the last command against `warehouse` (run_results.json in its own target): the command's
    `args` and a result per node."""
    return json.loads((as_warehouse(warehouse).dbt_dir() / "target" / "run_results.json").read_text())


def failure_detail(output: str, warehouse: Warehouse) -> str:
    """The one line a failed build ends with: a full disk said as such (dbt reports it as a fragment of whatever
    it was logging), else each failed node and its cause as dbt recorded them, else dbt's first error lines (a
    command that failed before running any node records none)."""
    lines = output.splitlines()
    if any(marker in line for line in lines for marker in DISK_FULL):
        where = warehouse.label() if warehouse.is_lake else str(warehouse.path.parent)
        return (f"no space left on device while dbt built: free space where the warehouse and dbt's files are "
                f"({where}; DuckDB spills to its temp directory there too) and run again")
    return " | ".join(failed_nodes(warehouse) or [line for line in lines if "ERROR" in line or "FAIL" in line][:5])


def failed_nodes(warehouse: Warehouse, most: int = 3) -> list[str]:
    """`<kind> <node>: <cause>` for each node the last dbt command failed, from its run_results.json (run_dbt
    removes the previous command's first); the cause is the message's first line after dbt's own heading ("Runtime
    Error in model ..."): what DuckDB or the test said. Running out of memory names the setting that governs it."""
    try:
        results = last_run_results(warehouse)["results"]
    except (OSError, ValueError, KeyError):
        return []
    found = []
    for result in results:
        if result.get("status") not in ("error", "fail"):
            continue
        kind, _, name = result["unique_id"].split(".")[:3]
        message = [line.strip() for line in (result.get("message") or "").splitlines() if line.strip()]
        if message and NODE_ERROR_HEADING.match(message[0]) and len(message) > 1:
            message = message[1:]
        cause = message[0] if message else result["status"]
        if "Out of Memory" in cause and not warehouse.is_spark:
            cause += (f" ([warehouse] memory_limit is {warehouse.memory_limit}: give DuckDB more where the machine "
                      "has it, README: Memory)")
        found.append(f"{kind} {name}: {cause}")
    return found[:most] + ([f"and {len(found) - most} more"] if len(found) > most else [])


def _stop(child: subprocess.Popen[bytes], grace_s: float = 10.0) -> None:
    child.terminate()
    try:
        child.wait(grace_s)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


def run_dbt(command: list[str], warehouse: Warehouse, inherit_fds: tuple[int, ...] = ()) -> tuple[int | None, str]:
    """Runs a dbt command on the warehouse as a child that dies with the runner and inherits `inherit_fds` (the
    warehouse lock, so the lock lasts as long as dbt does); a SIGINT or SIGTERM received by the runner stops it at
    once. Returns its exit code (None when stopped) and its output. A new warehouse starts from the checkout's last
    parse, and a successful command without --vars leaves its parse as that."""
    start_from_shared_parse(warehouse)
    # What run_results.json says is this command's or nothing: a command that fails before it runs a node writes
    # none, and the previous command's must not stand for it (failed_nodes).
    (warehouse.dbt_dir() / "target" / "run_results.json").unlink(missing_ok=True)
    with tempfile.TemporaryFile() as output:
        child = subprocess.Popen(command, env=dbt_environment(warehouse), stdout=output, stderr=subprocess.STDOUT,
                                 cwd=dbt_cwd(warehouse), pass_fds=inherit_fds, preexec_fn=die_with_parent)
        try:
            while child.poll() is None:
                interruptible_sleep(0.2)  # wakes at once on SIGINT / SIGTERM
                if signal_received():
                    _stop(child)
                    return None, ""
        except BaseException:
            _stop(child)
            raise
        output.seek(0)
        if child.returncode == 0 and "--vars" not in command:
            share_parse(warehouse)
        return child.returncode, output.read().decode(errors="replace")


def last_lines(output: str) -> str:
    """dbt's last three lines, on one line (its summary)."""
    tail = [line for line in output.splitlines() if line.strip()][-3:]
    return " | ".join(line.split(" ", 1)[-1].strip() for line in tail)


def run_transforms(
    warehouse: Warehouse | str, select: str | None = None, variables: dict[str, object] | None = None,
    inherit_fds: tuple[int, ...] = (), force: bool = False, full_refresh: bool = False,
) -> TransformResult:
    """`dbt build` (seeds, models, tests) into the warehouse; skipped until every vendor has been loaded once.

    A build is not run again when neither the loaded data nor the project changed since the last successful one
    (status "unchanged"), unless `force`. Incremental models rebuild what changed; they are rebuilt whole
    (`--full-refresh`) when `full_refresh`, and when the project (models, macros, seeds, vars) changed since the
    last recorded build or none is recorded: a model's new logic then reaches every row, not only new ones.

    dbt runs as a child (run_dbt)."""
    started = time.monotonic()
    warehouse = as_warehouse(warehouse)
    digests = None
    try:
        missing = missing_datasets(warehouse)
        if not missing and not select:
            with warehouse.connect(read_only=True) as con:
                digests = (project_digest(variables), inputs_digest(con))
                previous = last_build(con)
    except duckdb.Error as exc:
        return TransformResult("failed", time.monotonic() - started, describe(exc))
    if missing:
        return TransformResult("skipped", 0.0, f"not every vendor has been loaded yet (missing: {', '.join(missing)})")
    if digests is not None and digests == previous and not force:
        return TransformResult("unchanged", time.monotonic() - started,
                               "no loaded row and no model changed since the last build (--force-transform builds)")
    # Unit tests check the models' logic on fixed inputs, not the data: they run in `make test` (tests/transforms),
    # not in every scheduled build, as dbt advises (a seventh of a build's time).
    command = dbt_command("build", "--exclude-resource-type", "unit_test")
    if full_refresh or (digests is not None and (previous is None or previous[0] != digests[0])):
        command.append("--full-refresh")
    if select:
        command += ["--select", select]
    if variables:
        command += ["--vars", json.dumps(variables)]
    code, stdout = run_dbt(command, warehouse, inherit_fds)
    if code is None:
        return TransformResult("interrupted", time.monotonic() - started, "dbt stopped")
    detail = last_lines(stdout)
    if code != 0:
        return TransformResult("failed", time.monotonic() - started, failure_detail(stdout, warehouse) or detail)
    if digests is not None:
        try:
            record_build(warehouse, digests)
        except duckdb.Error as exc:  # the build stands; the next run builds again
            log.warning("could not record the build's inputs: %s", describe(exc))
    return TransformResult("built", time.monotonic() - started, detail)
