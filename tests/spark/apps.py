"""Spark applications for the tests, each in a Python process of its own (its own driver JVM), as the runner,
dbt and a reader are."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

# The session from the settings in $SPARK_CONF, then the snippet; what it prints as JSON is the result.
PROLOGUE = """
import json, os
from pyspark.sql import SparkSession
builder = SparkSession.builder.appName("test")
for key, value in json.loads(os.environ["SPARK_CONF"]).items():
    builder = builder.config(key, value)
spark = builder.enableHiveSupport().getOrCreate()
"""


def run_app(conf: dict[str, str], snippet: str, timeout_s: float = 900) -> object:
    """Runs `snippet` (with `spark` and `json` in scope) as a Spark application; returns what it printed last,
    read as JSON. An application took over 300 s beside the rest of the suite on 2 cores (six JVMs of the
    cluster among the suite's workers): the timeout catches a hang, not a slow machine."""
    code = PROLOGUE + textwrap.dedent(snippet) + "\nspark.stop()\n"
    done = subprocess.run([sys.executable, "-c", code], env={**os.environ, "SPARK_CONF": json.dumps(conf)},
                          capture_output=True, text=True, timeout=timeout_s)
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])
