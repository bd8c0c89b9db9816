"""One writer per warehouse: an exclusive, non-blocking file lock beside the DuckDB file."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType


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
