"""DuckLake connections that check the extensions' signatures once per process, not once per connection.

DuckDB checks an extension's signature every time a new database instance loads it: ducklake and postgres are
~50 MB binaries each, ~350 ms wall and ~700 ms of CPU on 2 cores for the pair. dlt opens a new in-memory
instance for every DuckLake connection (its cursors of one instance do not work with DuckLake), so a run paid
that for every load job, state sync and fingerprint read: 70 s of CPU in a first run at test scale, 25 s
without. Here each process loads the extensions once with the check on (`warehouse.extensions.verified`), and
the lake's instances then load exactly those, with unsigned loading allowed and nothing autoloaded or
autoinstalled: an extension the process has not checked is never loaded unchecked; a lake that needs another
one (an object-store data path needs httpfs) keeps dlt's own connections, checked on every load.
"""

from __future__ import annotations

from typing import Any

import duckdb

from dlt_adapter import (
    DuckDbConnectionPool,
    DuckLakeClientConfiguration,
    DuckLakeCredentials,
    bounded_ducklake,
    configspec,
)
from warehouse.extensions import verified

# DuckDB settings that only `connect` takes (dlt applies the rest with SET GLOBAL once connected).
CONNECT_ONLY = ("custom_user_agent",)


def checked_instance(extensions: tuple[str, ...], **config: Any) -> duckdb.DuckDBPyConnection:
    """A new in-memory DuckDB with `extensions` loaded, their signatures checked once in this process."""
    verified(extensions)
    con = duckdb.connect(config={**config, "allow_unsigned_extensions": "true",
                                 "autoload_known_extensions": "false", "autoinstall_known_extensions": "false"})
    try:
        for name in extensions:
            con.execute(f"LOAD {name}")
    except BaseException:
        con.close()
        raise
    return con


class CheckedOncePool(DuckDbConnectionPool):
    """dlt's pool for DuckLake (a new instance per borrow), whose instances come from `checked_instance`."""

    def __init__(self, credentials: CheckedOnceLakeCredentials) -> None:
        super().__init__(credentials, always_open_connection=True)

    def borrow_conn(self, global_config: dict[str, Any] | None = None, local_config: dict[str, Any] | None = None,
                    pragmas: list[str] | None = None) -> duckdb.DuckDBPyConnection:
        settings = {**(self.credentials.global_config or {}), **(global_config or {})}
        connect_only = {key: settings.pop(key) for key in CONNECT_ONLY if key in settings}
        with self._conn_lock:
            con = checked_instance(tuple(self.credentials.lake_extensions), **connect_only)
            try:  # as dlt's pool does on a new connection
                self._apply_config(con, "GLOBAL", settings)
                self._execute_statements(con)
                self._apply_local_config(con, local_config, pragmas)
            except BaseException:
                con.close()
                raise
            self._conn_borrows += 1
            return con


@configspec(init=False)
class CheckedOnceLakeCredentials(DuckLakeCredentials):
    lake_extensions: list[str] | None = None  # every extension the lake's connections need

    def on_resolved(self) -> None:
        self.conn_pool = CheckedOncePool(self)


@configspec
class CheckedOnceLakeConfiguration(DuckLakeClientConfiguration):
    credentials: CheckedOnceLakeCredentials = None  # type: ignore[assignment]


class checked_once_ducklake(bounded_ducklake):  # lower case, as dlt names its destination factories
    """dlt's `ducklake` destination with connections from `CheckedOncePool`."""

    @property
    def spec(self) -> type:
        return CheckedOnceLakeConfiguration
