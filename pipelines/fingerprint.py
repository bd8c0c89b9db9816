"""Content fingerprints of every table in a warehouse, to show two builds hold the same data.

    python -m pipelines.fingerprint WAREHOUSE [OTHER]     # one: print; two: compare, exit 1 on a difference

A table's fingerprint is its row count and an order-independent sum of row hashes over its columns in
order, leaving out bookkeeping tables (names starting with `_`: dlt's own, the sources' change fingerprints)
and the columns that say when or in which load a row arrived
(`_dlt_id`, `_dlt_load_id`, a model's `load_id`), which differ between two equal builds. Floating-point
values are hashed rounded to 9 decimals (parallel sums differ in the last bits). Column names do not
enter the hash, so a renamed column with the same values matches.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable

import duckdb

from warehouse import literal

SKIPPED_SCHEMA_SUFFIXES = ("_staging",)
SKIPPED_SCHEMAS = ("runner",)  # the runner's bookkeeping (when it built what), not data
LOAD_COLUMNS = ("load_id",)


def fingerprints(warehouse: str) -> dict[str, str]:
    with duckdb.connect(warehouse, read_only=True) as con:
        return table_fingerprints(con)


def table_fingerprints(con: duckdb.DuckDBPyConnection, schemas: Iterable[str] | None = None) -> dict[str, str]:
    """`schema.table` -> fingerprint for every table of the connection's database (or of `schemas`), in one
    catalog query and one scan query (a run computes these before every build)."""
    wanted = None if schemas is None else set(schemas)
    columns: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for schema, table, name, kind in con.execute(
            "select c.table_schema, c.table_name, c.column_name, c.data_type from information_schema.columns as c "
            "join information_schema.tables as t using (table_catalog, table_schema, table_name) "
            "where c.table_catalog = current_database() and c.table_schema not in ('information_schema', 'pg_catalog') "
            "and c.table_name not like '\\_%' escape '\\' order by 1, 2, c.ordinal_position").fetchall():
        skipped = schema.endswith(SKIPPED_SCHEMA_SUFFIXES) or schema in SKIPPED_SCHEMAS
        if skipped or (wanted is not None and schema not in wanted):
            continue
        kept = columns.setdefault((schema, table), [])
        if not name.startswith("_dlt") and name not in LOAD_COLUMNS:
            kept.append((name, kind))
    if not columns:
        return {}
    scans = []
    for (schema, table), kept in columns.items():
        values = ", ".join(f'round("{c}", 9)' if kind in ("DOUBLE", "FLOAT") else f'"{c}"' for c, kind in kept) or "1"
        scans.append(f"select {literal(f'{schema}.{table}')} as name, count(*) as n, "
                     f'coalesce(sum(hash({values})::hugeint), 0) as total from "{schema}"."{table}"')
    rows = con.execute(" union all ".join(scans)).fetchall()
    return {name: f"{n}:{total}" for name, n, total in sorted(rows)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.fingerprint", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("warehouse")
    parser.add_argument("other", nargs="?")
    args = parser.parse_args(argv)
    first = fingerprints(args.warehouse)
    if not args.other:
        print(json.dumps(first, indent=2))
        return 0
    second = fingerprints(args.other)
    differences = sorted(name for name in first.keys() | second.keys() if first.get(name) != second.get(name))
    for name in differences:
        print(f"{name}: {first.get(name, 'absent')} vs {second.get(name, 'absent')}")
    print(f"{len(first.keys() | second.keys()) - len(differences)} tables equal, {len(differences)} differ")
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
