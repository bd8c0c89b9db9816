"""Run the runner and SIGKILL the process that runs dlt's steps (pipelines/child.py: its extract process, or its
load process for a point inside the load) at a named point inside a dlt pipeline run, as the OOM killer or a
power cut would.

    python -m tests.killpoint after-extract -- <runner args>
    python -m tests.killpoint after-normalize -- <runner args>
    python -m tests.killpoint after-copy:<table> -- <runner args>
    python -m tests.killpoint after-merge:<table> -- <runner args>

`after-extract` and `after-normalize` die once the run's first extract (or normalize) step finished, its
package not yet loaded. `after-copy` dies right after the first file of `<table>` was copied into the
destination (for a merge table: its `_staging` dataset), before dlt records the job as done, so the re-run
copies that file again. `after-merge` dies right after the merge SQL of `<table>` committed, before the job
is marked done. Time-based kills cannot hit these points reliably; this harness hits them every time. Only
dlt's classes are wrapped: the runner itself runs unchanged.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from typing import Any

from dlt.common.storages.load_package import ParsedLoadJobFileName
from dlt.destinations.impl.duckdb.duck import DuckDbCopyJob
from dlt.destinations.job_client_impl import SqlLoadJob
from dlt.pipeline.pipeline import Pipeline


def _die_after(cls: type, table: str) -> None:
    original: Callable[[Any], None] = cls.run

    def run(job: Any) -> None:
        original(job)
        if ParsedLoadJobFileName.parse(job._file_path).table_name == table:
            os.kill(os.getpid(), signal.SIGKILL)

    cls.run = run


def _die_after_step(step: str) -> None:
    original: Callable[..., Any] = getattr(Pipeline, step)

    def run_step(pipeline: Pipeline, *args: Any, **kwargs: Any) -> Any:
        info = original(pipeline, *args, **kwargs)
        if info is not None and info.loads_ids:  # a step that made a package, not one on pending data only
            os.kill(os.getpid(), signal.SIGKILL)
        return info

    setattr(Pipeline, step, run_step)


def main(argv: list[str]) -> int:
    point, separator, *runner_args = argv
    if separator != "--":
        raise SystemExit(__doc__)
    where, _, table = point.partition(":")
    jobs = {"after-copy": DuckDbCopyJob, "after-merge": SqlLoadJob}
    steps = {"after-extract": "extract", "after-normalize": "normalize"}
    if where in steps and not table:
        _die_after_step(steps[where])
    elif where in jobs and table:
        _die_after(jobs[where], table)
    else:
        raise SystemExit(__doc__)
    from pipelines.run import main as run

    return run(runner_args)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
