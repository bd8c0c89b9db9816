"""Build the dbt project in `transforms/` against the warehouse file (after the loads, never during)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

TRANSFORMS = Path(__file__).resolve().parent.parent / "transforms"


@dataclass
class TransformResult:
    status: str  # "built", "failed" or "skipped"
    seconds: float
    detail: str


def dbt_executable() -> str:
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"


def run_transforms(warehouse: str, vendors: list[str] | None = None, select: str | None = None) -> TransformResult:
    started = time.monotonic()
    if not (TRANSFORMS / "dbt_project.yml").exists():
        return TransformResult("skipped", 0.0, "no dbt project in transforms/ yet")
    command = [dbt_executable(), "build", "--project-dir", str(TRANSFORMS), "--profiles-dir", str(TRANSFORMS)]
    if select:
        command += ["--select", select]
    env = {**os.environ, "WAREHOUSE_PATH": str(Path(warehouse).resolve()), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=TRANSFORMS)
    tail = [line for line in done.stdout.splitlines() if line.strip()][-3:]
    detail = " | ".join(line.split(" ", 1)[-1].strip() for line in tail)
    if done.returncode != 0:
        failures = [line for line in done.stdout.splitlines() if "ERROR" in line or "FAIL" in line][:5]
        return TransformResult("failed", time.monotonic() - started, " | ".join(failures) or detail)
    return TransformResult("built", time.monotonic() - started, detail)
