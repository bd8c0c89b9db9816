"""DuckDB extensions a DuckLake warehouse needs (ducklake; postgres for a Postgres catalog).

In production DuckDB installs them from its own repository on first use. Offline (tests, CI, air-gapped
runners) the pinned PyPI packages `duckdb-ext-ducklake` and `duckdb-ext-postgres` carry the binaries for
our DuckDB version; we install from them when present. Either way an extension is installed once per
machine (into ~/.duckdb/extensions), after which every process, dlt's and dbt's included, loads it.
"""

from __future__ import annotations

import functools
from pathlib import Path

import duckdb

FILE_NAMES = {"postgres": "postgres_scanner"}  # the extension's binary name where it differs


class MissingExtension(RuntimeError):
    pass


def packaged_binary(name: str) -> Path | None:
    """The extension binary shipped by the PyPI package `duckdb-ext-<name>`, for this DuckDB and platform."""
    try:
        import duckdb_ext  # type: ignore[import-not-found]  # namespace package of duckdb-ext-*
    except ImportError:
        return None
    platform = duckdb.execute("pragma platform").fetchone()[0]
    for root in getattr(duckdb_ext, "__path__", []):
        binary = Path(root) / "extensions" / f"v{duckdb.__version__}" / platform / \
            f"{FILE_NAMES.get(name, name)}.duckdb_extension"
        if binary.exists():
            return binary
    return None


@functools.cache
def ensure_extensions(names: tuple[str, ...]) -> None:
    """Install each extension unless it already is; raise MissingExtension with how to get it."""
    with duckdb.connect() as con:
        installed = {row[0] for row in con.execute(
            "select extension_name from duckdb_extensions() where installed").fetchall()}
        for name in names:
            if FILE_NAMES.get(name, name) in installed or name in installed:
                continue
            binary = packaged_binary(name)
            try:
                con.execute(f"install '{binary}'" if binary else f"install {name}")
            except duckdb.Error as exc:
                raise MissingExtension(
                    f"the DuckDB extension {name!r} is not installed and could not be installed "
                    f"({str(exc).splitlines()[0]}); with network access DuckDB installs it by itself, offline "
                    f"run: pip install duckdb-ext-{name}=={duckdb.__version__}.*") from None


@functools.cache
def verified(names: tuple[str, ...]) -> None:
    """Install each extension unless it already is, and load it once in this process with DuckDB's signature
    check on: a tampered or unsigned binary fails here (see warehouse.lake, which loads them unchecked after)."""
    ensure_extensions(names)
    with duckdb.connect() as con:
        for name in names:
            con.execute(f"LOAD {name}")
