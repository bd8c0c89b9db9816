"""Build the dbt project in `transforms/` against the warehouse file (after the loads, never during)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines.registry import SOURCES

TRANSFORMS = Path(__file__).resolve().parent.parent / "transforms"


@dataclass
class TransformResult:
    status: str  # "built", "failed" or "skipped"
    seconds: float
    detail: str


def dbt_executable() -> str:
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"


def missing_datasets(warehouse: str) -> list[str]:
    with duckdb.connect(warehouse, read_only=True) as con:
        rows = con.execute("select distinct table_schema from information_schema.tables").fetchall()
    present = {row[0] for row in rows}
    return [name for name in SOURCES if name not in present]


def run_transforms(
    warehouse: str, select: str | None = None, variables: dict[str, object] | None = None
) -> TransformResult:
    """`dbt build` (seeds, models, tests) into the warehouse; skipped until every vendor has been loaded once."""
    started = time.monotonic()
    missing = missing_datasets(warehouse)
    if missing:
        return TransformResult("skipped", 0.0, f"not every vendor has been loaded yet (missing: {', '.join(missing)})")
    command = [
        dbt_executable(),
        "--no-use-colors",
        "build",
        "--project-dir",
        str(TRANSFORMS),
        "--profiles-dir",
        str(TRANSFORMS),
    ]
    if select:
        command += ["--select", select]
    if variables:
        command += ["--vars", json.dumps(variables)]
    env = {
        **os.environ,
        "WAREHOUSE_PATH": str(Path(warehouse).resolve()),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        # The Python models import the algorithms from the repo's `attribution` package.
        "PYTHONPATH": os.pathsep.join(filter(None, [str(TRANSFORMS.parent), os.environ.get("PYTHONPATH")])),
    }
    done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=TRANSFORMS)
    tail = [line for line in done.stdout.splitlines() if line.strip()][-3:]
    detail = " | ".join(line.split(" ", 1)[-1].strip() for line in tail)
    if done.returncode != 0:
        failures = [line for line in done.stdout.splitlines() if "ERROR" in line or "FAIL" in line][:5]
        return TransformResult("failed", time.monotonic() - started, " | ".join(failures) or detail)
    return TransformResult("built", time.monotonic() - started, detail)
