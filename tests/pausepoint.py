"""Run the runner and hold it at a named point, lock taken, until the test lets it go on.

    python -m tests.pausepoint before-extract DIR -- <runner args>
    python -m tests.pausepoint before-transform DIR -- <runner args>

At the point the run writes `DIR/paused` (its pid) and waits until `DIR/resume` exists, then carries on
unchanged. A test that needs a run to be busy (holding the warehouse lock, readers reading around it) starts it
with `start_paused`, does what must overlap, then calls `resume`: the overlap is certain, not a guess about how
long a run takes on this machine. Only a module attribute of the runner is wrapped: the runner runs unchanged.
A run held longer than `HOLD_LIMIT_S` goes on by itself, so a test that dies never leaves a run behind for good.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HOLD_LIMIT_S = 600
POINTS = {"before-extract": "extract_vendors", "before-load": "load_vendors", "before-transform": "run_transforms"}


def _pause_before(name: str, directory: Path) -> None:
    import pipelines.run as runner

    original: Callable[..., Any] = getattr(runner, name)

    def paused(*args: Any, **kwargs: Any) -> Any:
        announce(directory)
        deadline = time.monotonic() + HOLD_LIMIT_S
        while not (directory / "resume").exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        return original(*args, **kwargs)

    setattr(runner, name, paused)


def main(argv: list[str]) -> int:
    point, directory, separator, *runner_args = argv
    if separator != "--" or point not in POINTS:
        raise SystemExit(__doc__)
    _pause_before(POINTS[point], Path(directory))
    from pipelines.run import main as run

    return run(runner_args)


def announce(directory: Path) -> None:
    """`directory/paused` holding this process's pid, whole from the moment it exists: the test waits for the
    file, then reads it (written in place, a reader could find it still empty: one suite did)."""
    ready = directory / "paused.tmp"
    ready.write_text(str(os.getpid()))
    ready.replace(directory / "paused")


# The test's side.

def start_paused(point: str, args: list[str], env: dict[str, str], directory: Path,
                 timeout_s: float = 300) -> Any:
    """The runner started through this harness, returned once it is held at `point` (merged output, for
    `communicate()`). Fails if the run ends before it gets there."""
    from tests.warehouse import start_cli

    directory.mkdir(parents=True, exist_ok=True)
    run = start_cli([point, str(directory), "--", *args], env, module="tests.pausepoint")
    deadline = time.monotonic() + timeout_s
    while not (directory / "paused").exists():
        if run.poll() is not None:
            raise AssertionError(f"the run ended (exit {run.returncode}) before it reached {point}:\n"
                                 + run.communicate()[0])
        if time.monotonic() > deadline:
            run.kill()
            raise AssertionError(f"the run did not reach {point} within {timeout_s:.0f} s")
        time.sleep(0.05)
    return run


def resume(directory: Path) -> None:
    (directory / "resume").touch()


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

