"""Helpers for tests that load into a DuckDB warehouse: runs, snapshots, the runner CLI."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dlt
import duckdb

from pipelines.registry import DESTINATIONS, SOURCES
from pipelines.transform import dbt_command, dbt_cwd, dbt_environment, start_from_shared_parse
from pipelines.vendors import env_key, sandbox_settings
from simulator.process import SandboxProcess
from tests import forked
from warehouse import Warehouse, as_warehouse, pipelines_dir
from warehouse.lock import WarehouseBusy, WarehouseLock

ROOT = forked.ROOT  # the repository, where CLI runs start
DLT_COLUMNS = ("_dlt_load_id", "_dlt_id", "_dlt_parent_id", "_dlt_root_id", "_dlt_list_idx")
END_TIME = "2026-11-10T00:00:00Z"  # past the sandbox clock even after advances; fewer empty windows than now
PINNED_END = {env_key(vendor, "end_time"): END_TIME for vendor in SOURCES}  # for the runner, every vendor


def sandbox_env(sandbox: SandboxProcess, vendors: list[str], push: bool = False, **overrides: str) -> dict[str, str]:
    """Environment that points the given sources, and every destination, at a sandbox, as an operator
    would configure it. Pushing is off unless asked for (`[destinations] enabled`): the push tests push,
    the others need not spend the suite's time on it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOURCES__", "DESTINATIONS__"))}
    destinations = {f"DESTINATIONS__{name.upper()}__BASE_URL": f"{sandbox.url}/{name}" for name in DESTINATIONS}
    destinations["DESTINATIONS__ENABLED"] = str(push).lower()
    return {**env, **sandbox_settings(sandbox.url, vendors), **destinations, **overrides}


def run_cli(args: list[str], env: dict[str, str], timeout: float = 300, module: str = "pipelines.run",
            fork: bool = forked.ENABLED) -> subprocess.CompletedProcess[str]:
    """`python -m <module> <args>` to its end; `fork` starts it from the warm interpreter (`tests/forked.py`)."""
    if fork:
        return forked.run(module, args, env, timeout=timeout)
    return subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)


def start_cli(args: list[str], env: dict[str, str],
              module: str = "pipelines.run") -> subprocess.Popen[str] | forked.ForkedRun:
    """`python -m <module> <args>` (the runner), started: its stdout and stderr merged, for `communicate()`."""
    if forked.ENABLED:
        return forked.start(module, args, env, merged=True)
    return subprocess.Popen([sys.executable, "-m", module, *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


@dataclass(frozen=True)
class Uninterrupted:
    """What an uninterrupted run left: each vendor's tables, and how long the run took (kills are timed as a
    share of it, so early, midway or late in the run whatever the machine's speed)."""

    snapshots: dict[str, dict[str, list[tuple[Any, ...]]]]
    took: float


def uninterrupted(args: list[str], env: dict[str, str], warehouse: Path, vendors: list[str]) -> Uninterrupted:
    started = time.monotonic()
    done = run_cli(args, env)
    assert done.returncode == 0, done.stdout + done.stderr
    took = time.monotonic() - started
    return Uninterrupted({vendor: snapshot(warehouse, vendor) for vendor in vendors}, took)


def killed_at(args: list[str], env: dict[str, str], share: float, took: float, attempts: int = 3) -> None:
    """Start a run and kill -9 it at `share` of a whole run's time (`took`, an uninterrupted run's). A run that
    ends before the kill was not killed: its warehouse is removed and the run started again, timed by its own
    length now (the reference may have run on a busier machine); the kill must land within `attempts`."""
    warehouse = Path(args[args.index("--warehouse") + 1])
    for _ in range(attempts):
        proc, started = start_cli(args, env), time.monotonic()
        while proc.poll() is None and time.monotonic() < started + share * took:
            time.sleep(0.02)
        proc.kill()  # a no-op once the run has ended
        if proc.wait() == -signal.SIGKILL:
            released(warehouse)
            return
        took = time.monotonic() - started
        warehouse.unlink()
        Path(f"{warehouse}.wal").unlink(missing_ok=True)
        shutil.rmtree(pipelines_dir(warehouse), ignore_errors=True)
    raise AssertionError(f"the run ended before {share:.0%} of its time {attempts} times over")


def released(warehouse: Path, timeout_s: float = 60) -> None:
    """Returns once no process of a killed run holds the warehouse's lock: its extract process (pipelines/child.py)
    inherits the lock and dies with the runner, a moment after it; until then a new run is refused (exit 75)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with WarehouseLock(warehouse):
                return
        except WarehouseBusy:
            if time.monotonic() > deadline:
                raise AssertionError(f"the killed run still holds {warehouse}'s lock after {timeout_s:.0f} s") from None
            time.sleep(0.05)


def copy_warehouse(warehouse: Path, directory: Path) -> Path:
    """The warehouse and the working state beside it (dlt's; dbt's target, if built), copied into `directory`:
    a warehouse that incremental runs carry on from, and whose builds keep dbt's partial parse."""
    directory.mkdir(parents=True, exist_ok=True)
    copy = directory / warehouse.name
    shutil.copy(warehouse, copy)
    shutil.copytree(pipelines_dir(warehouse), pipelines_dir(copy))
    if (built := as_warehouse(warehouse).dbt_dir() / "target").is_dir():
        shutil.copytree(built, as_warehouse(copy).dbt_dir() / "target")
    return copy


def committed_state(pipeline: Any) -> dict[str, Any]:
    """The pipeline's source state as persisted (re-read from disk, not the object in memory)."""
    return dict(dlt.attach(pipeline_name=pipeline.pipeline_name, pipelines_dir=pipeline.pipelines_dir).state["sources"])


def tables(warehouse: str | Path, dataset: str) -> list[str]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute("select table_name from information_schema.tables where table_schema = ? "
                           "and table_name not like '\\_%' escape '\\' order by 1", [dataset]).fetchall()
    return [r[0] for r in rows]


def stored_tables(con: duckdb.DuckDBPyConnection, dataset: str) -> dict[str, Any]:
    """The tables of the newest schema dlt stored in the warehouse for `dataset`."""
    row = con.execute(f'select "schema" from "{dataset}"._dlt_version order by inserted_at desc limit 1').fetchone()
    return json.loads(row[0])["tables"] if row else {}


def logged_keys(con: duckdb.DuckDBPyConnection, dataset: str) -> dict[str, list[str]]:
    """The tables dlt appends to with a primary key (logs of versions, as Integr8's events) and their keys,
    from the newest schema dlt stored in the warehouse."""
    declared = stored_tables(con, dataset)
    keys = {name: [c for c, column in table["columns"].items() if column.get("primary_key")]
            for name, table in declared.items() if table.get("write_disposition") == "append"}
    return {name: key for name, key in keys.items() if key}


def current(con: duckdb.DuckDBPyConnection, dataset: str, table: str) -> str:
    """`dataset.table` as a relation of current rows: for a log, each key's version in the newest completed
    load (what the dbt macro `latest_loaded` reads); any other table as it is."""
    key = logged_keys(con, dataset).get(table)
    if not key:
        return f'"{dataset}"."{table}"'
    return (f'(select logged.* from "{dataset}"."{table}" as logged semi join "{dataset}"._dlt_loads as loads '
            "on logged._dlt_load_id = loads.load_id and loads.status = 0 qualify row_number() over (partition by "
            + ", ".join(f'logged."{k}"' for k in key) + " order by logged._dlt_load_id desc, logged.rowid desc) = 1)")


def snapshot(warehouse: str | Path, dataset: str, logs: bool = False) -> dict[str, list[tuple[Any, ...]]]:
    """Every data table's current rows, sorted, without dlt's bookkeeping columns: equal snapshots = equal
    tables. `logs`: an appended table's every row instead, to show a load copied each version exactly once."""
    out = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for table in tables(warehouse, dataset):
            columns = [c[0] for c in con.execute(f'describe "{dataset}"."{table}"').fetchall()
                       if c[0] not in DLT_COLUMNS]
            select = ", ".join(f'"{c}"' for c in sorted(columns))
            relation = f'"{dataset}"."{table}"' if logs else current(con, dataset, table)
            out[table] = sorted(con.execute(f"select {select} from {relation}").fetchall(), key=repr)
    return out


def count_current(warehouse: str | Path, dataset: str, table: str, where: str = "true") -> int:
    """How many current rows of `dataset.table` meet `where` (see `current`)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(f"select count(*) from {current(con, dataset, table)} where {where}").fetchall()[0][0]


def count(warehouse: str | Path, sql: str) -> int:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()[0][0]


def dbt(warehouse: Path | Warehouse, *args: str) -> subprocess.CompletedProcess[str]:
    """A dbt command on this project against `warehouse`, as the runner sets it up (its target, the repo)."""
    target = as_warehouse(warehouse)
    return subprocess.run(dbt_command(*args), env=dbt_environment(target), cwd=dbt_cwd(target),
                          capture_output=True, text=True, timeout=300)


def dbt_log(warehouse: Path) -> Path:
    """dbt's debug log of the commands run on `warehouse` (beside it, as the runner sets up)."""
    return as_warehouse(warehouse).dbt_dir() / "logs" / "dbt.log"


def logged_statements(log: str, node: str) -> list[str]:
    """The SQL dbt ran for `node`, in order, from its debug log (each statement follows "On <node>: /* ... */" and
    ends where the next log line starts)."""
    found, current = [], None
    for line in log.splitlines():
        if re.match(r"\d\d:\d\d:\d\d\.\d+ \[", line):
            if current is not None:
                found.append("\n".join(current).strip())
            current = [] if f"On {node}: /*" in line else None
        elif current is not None:
            current.append(line)
    return [sql for sql in found if sql]


def dbt_show(warehouse: Warehouse, sql: str) -> list[dict[str, Any]]:
    """The rows of `sql` (Jinja: the project's macros and sources) as dbt compiles and runs it on `warehouse`, a
    new one starting from the checkout's last parse as the runner's commands do."""
    start_from_shared_parse(warehouse)
    done = dbt(warehouse, "--quiet", "show", "--inline", sql, "--output", "json", "--limit", "-1")
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)["show"]
