"""One writer per warehouse: an exclusive, non-blocking file lock beside the DuckDB file (or a DuckLake's
local catalog file), or an advisory lock in a DuckLake's Postgres catalog."""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
from pathlib import Path
from types import TracebackType
from typing import Any

from warehouse.kinds import POSTGRES, Warehouse


class WarehouseBusy(RuntimeError):
    pass


class WarehouseLock:
    def __init__(self, warehouse: str | os.PathLike[str]) -> None:
        self.path = Path(f"{Path(warehouse).resolve()}.lock")
        self._fd: int | None = None

    def __enter__(self) -> WarehouseLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 64).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise WarehouseBusy(f"another run is writing {self.path.with_suffix('')} (pid {holder}); "
                                "not starting a second writer") from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        return self

    def fds(self) -> tuple[int, ...]:
        """The lock's descriptor, for child processes to inherit: the lock then lasts until the last of
        them is gone, so a killed runner's dbt never writes into the next run's warehouse."""
        return (self._fd,) if self._fd is not None else ()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)  # the kernel also releases it if we are killed
            os.close(self._fd)
            self._fd = None


class CatalogLock:
    """One writer per DuckLake whose catalog is in Postgres: a session-level advisory lock in that database,
    so runners on different machines exclude each other. Postgres releases it when the session ends, also
    when the runner is killed; dbt inherits the session's socket, so the lock lasts as long as dbt does."""

    def __init__(self, conninfo: str, name: str) -> None:
        self.conninfo, self.key = conninfo, f"attribution-warehouse:{name}"
        self._conn: Any = None

    def __enter__(self) -> CatalogLock:
        import psycopg  # only runners of a Postgres-catalog DuckLake need it

        conn = psycopg.connect(self.conninfo, autocommit=True,
                               application_name=f"attribution run pid {os.getpid()} on {socket.gethostname()}")
        (got,) = conn.execute("select pg_try_advisory_lock(hashtextextended(%s, 0))", [self.key]).fetchone()
        if not got:
            holder = conn.execute(HOLDER_SQL, [self.key, self.key]).fetchone()
            conn.close()
            raise WarehouseBusy(f"another run is writing the DuckLake ({holder[0] if holder else 'unknown'} holds "
                                f"its lock in the catalog database); not starting a second writer")
        self._conn = conn
        return self

    def fds(self) -> tuple[int, ...]:
        return (self._conn.fileno(),) if self._conn is not None else ()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):  # closing the session releases the lock anyway
                self._conn.execute("select pg_advisory_unlock(hashtextextended(%s, 0))", [self.key])
            self._conn.close()
            self._conn = None


# A bigint advisory key shows in pg_locks as classid (high 32 bits) and objid (low 32 bits), objsubid 1.
HOLDER_SQL = """
select a.application_name from pg_locks l join pg_stat_activity a on a.pid = l.pid
where l.locktype = 'advisory' and l.granted and l.objsubid = 1
  and l.classid::text::bigint = (hashtextextended(%s, 0) >> 32) & 4294967295
  and l.objid::text::bigint = hashtextextended(%s, 0) & 4294967295
"""


def warehouse_lock(warehouse: Warehouse) -> WarehouseLock | CatalogLock:
    if warehouse.is_postgres:
        return CatalogLock(warehouse.catalog.removeprefix(POSTGRES), warehouse.name)
    if warehouse.is_remote:  # MotherDuck: no lock server of ours; one scheduled runner per lake
        return WarehouseLock(warehouse.local_dir() / warehouse.name)
    return WarehouseLock(warehouse.path)
