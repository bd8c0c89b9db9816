"""`make dashboard`: build the dashboard from the published marts (every publish by the runner already does).

    python -m dashboard [--snapshot PATH] [--out <snapshot dir>/dashboard.html]

The snapshot defaults to the one the runner publishes: `[publish] path` (PUBLISH__PATH), else
`<warehouse name>_published/` beside the configured warehouse (`[warehouse] location`, WAREHOUSE__LOCATION).

The page is one HTML file with plotly.js inlined: open it in a browser, offline, or serve it anywhere.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dashboard import SnapshotError, build
from warehouse import Warehouse
from warehouse.publication import SNAPSHOT, resolve_publish_dir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dashboard", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--snapshot", help="published snapshot (default: the runner's publication)")
    parser.add_argument("--out", help="HTML file to write (default: dashboard.html beside the snapshot)")
    args = parser.parse_args(argv)
    snapshot = Path(args.snapshot) if args.snapshot else resolve_publish_dir(Warehouse.configured()) / SNAPSHOT
    if not snapshot.is_file():
        print(f"error: no published snapshot at {snapshot}: a successful `make run` publishes one there (and its "
              "dashboard.html beside it); `make demo` publishes to demo_published/", file=sys.stderr)
        return 1
    try:
        out = build(snapshot, args.out or snapshot.with_name("dashboard.html"))
    except SnapshotError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"dashboard: {out.resolve()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
