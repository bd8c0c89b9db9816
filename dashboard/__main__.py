"""`make dashboard`: build the dashboard from the published marts.

    python -m dashboard [--snapshot warehouse_published/snapshot.duckdb] [--out <snapshot dir>/dashboard.html]

The page is one HTML file with plotly.js inlined: open it in a browser, offline, or serve it anywhere.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dashboard import build
from pipelines.publish import SNAPSHOT, default_publish_dir
from pipelines.warehouse import DEFAULT_WAREHOUSE

DEFAULT_SNAPSHOT = default_publish_dir(DEFAULT_WAREHOUSE) / SNAPSHOT


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dashboard", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--snapshot", default=str(DEFAULT_SNAPSHOT), help="published snapshot (default: %(default)s)")
    parser.add_argument("--out", help="HTML file to write (default: dashboard.html beside the snapshot)")
    args = parser.parse_args(argv)
    snapshot = Path(args.snapshot)
    if not snapshot.exists():
        print(f"note: {snapshot} does not exist yet (no successful run has published); "
              "the dashboard shows empty states", file=sys.stderr)
    out = build(snapshot, args.out or snapshot.with_name("dashboard.html"))
    print(f"dashboard: {out.resolve()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
