"""One line that says why a vendor, the transforms or the whole run failed."""

from __future__ import annotations

import re

import duckdb

from dlt_adapter import ConfigFieldMissingException, DltException
from pipelines.vendors import env_key
from vendor_http import VendorError

# DuckDB's words when another process has the file open: 'Could not set lock on file "w.duckdb":
# Conflicting lock is held in /usr/bin/python3 (PID 1234). ...'
_LOCKED = "Could not set lock on file"
_HOLDER = re.compile(r"lock is held in (.*?\(PID \d+\))")


def root_cause(exc: BaseException) -> BaseException:
    """The cause worth showing: our VendorError if the chain has one, else a missing setting, else the first
    exception that is not one of dlt's wrappers. Never an unrelated exception that was merely being handled
    when the real one was raised (`__context__` past a real error)."""
    chain: list[BaseException] = []
    seen: BaseException | None = exc
    while seen is not None and all(seen is not e for e in chain):
        chain.append(seen)
        seen = seen.__cause__ or (None if seen.__suppress_context__ else seen.__context__)
    for wanted in (VendorError, ConfigFieldMissingException):
        found = next((e for e in chain if isinstance(e, wanted)), None)
        if found is not None:
            return found
    return next((e for e in chain if not isinstance(e, DltException)), chain[-1])


def warehouse_in_use(exc: BaseException) -> str | None:
    """"the warehouse is open in another process" when DuckDB could not lock the file, else None."""
    if not isinstance(exc, duckdb.Error) or _LOCKED not in str(exc):
        return None
    found = _HOLDER.search(str(exc))
    holder = f" ({found[1]})" if found else ""
    return (f"the warehouse is open in another process{holder}: close that connection (or point readers at a "
            "copy) and run again")


def describe(exc: BaseException, vendor: str | None = None) -> str:
    """The one-line cause of a failure, prefixed with the vendor when it happened inside one."""
    cause = root_cause(exc)
    prefix = f"{vendor}: " if vendor else ""
    if isinstance(cause, VendorError):
        return str(cause)
    if isinstance(cause, ConfigFieldMissingException) and vendor:
        where = ", ".join(env_key(vendor, field) for field in cause.fields)
        return (f"{prefix}missing setting(s) {', '.join(cause.fields)}: put them in .dlt/secrets.toml "
                f"under [sources.{vendor}] or set {where}")
    in_use = warehouse_in_use(cause)
    if in_use:
        return prefix + in_use
    if isinstance(cause, OSError) and cause.filename:
        return f"{prefix}{cause.strerror or type(cause).__name__}: {cause.filename}"
    first_line = (str(cause).strip().splitlines() or [""])[0]
    return f"{prefix}{type(cause).__name__}: {first_line}"
