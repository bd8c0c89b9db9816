"""Any dbt command on the transforms project, against a warehouse as the runner sets it up (its dbt target, the
profile's variables, dbt's own target and logs beside the warehouse):

    python -m pipelines.dbt docs generate            then: python -m pipelines.dbt docs serve
    python -m pipelines.dbt source freshness
    python -m pipelines.dbt --warehouse demo.duckdb build --select marts

The warehouse is `--warehouse`, else `[warehouse] location` (WAREHOUSE__LOCATION), else warehouse.duckdb. One
that does not exist is one clear line (dbt would create an empty database and document nothing); `make demo`
builds `demo.duckdb`, `make run` the configured one.
"""

from __future__ import annotations

import argparse
import subprocess
import sys

from pipelines.transform import dbt_command, dbt_cwd, dbt_environment, start_from_shared_parse
from warehouse import Warehouse, WarehouseConfigError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.dbt", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--warehouse", help="a DuckDB file, or ducklake:<catalog> (default: as the runner's)")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="the dbt command and its arguments")
    args = parser.parse_args(argv)
    if not args.command:
        parser.error("name a dbt command, e.g. docs generate")
    try:
        warehouse = Warehouse.configured(args.warehouse)
    except WarehouseConfigError as exc:
        parser.error(str(exc))
    problem = warehouse.file_problem()
    if problem is None and not warehouse.is_lake and not warehouse.path.exists():
        problem = (f"{warehouse.path} does not exist yet: `make run` builds the configured warehouse, `make demo` "
                   "demo.duckdb (then --warehouse demo.duckdb)")
    if problem:
        print(f"error: --warehouse: {problem}", file=sys.stderr)
        return 2
    start_from_shared_parse(warehouse)
    return subprocess.call(dbt_command(*args.command), env=dbt_environment(warehouse), cwd=dbt_cwd(warehouse))


if __name__ == "__main__":
    sys.exit(main())
