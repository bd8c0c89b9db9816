"""Spark applications for the tests, each in a Python process of its own (its own driver JVM), as the runner,
dbt and a reader are."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# The session from the settings in $SPARK_CONF, then the snippet; what it prints as JSON is the result.
PROLOGUE = """
import json, os
from warehouse.spark_catalog import spark_session
spark = spark_session(json.loads(os.environ["SPARK_CONF"]), "test")
"""


def run_app(conf: dict[str, str], snippet: str, timeout_s: float = 900) -> object:
    """Runs `snippet` (with `spark` and `json` in scope) as a Spark application; returns what it printed last,
    read as JSON. An application took over 300 s beside the rest of the suite on 2 cores (six JVMs of the
    cluster among the suite's workers): the timeout catches a hang, not a slow machine."""
    code = PROLOGUE + textwrap.dedent(snippet) + "\nspark.stop()\n"
    env = {**os.environ, "SPARK_CONF": json.dumps(conf), "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", code], env=env,
                          capture_output=True, text=True, timeout=timeout_s)
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])
