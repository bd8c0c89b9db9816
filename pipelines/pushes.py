"""The push step: each configured destination's outboxes to its vendor (destinations/), one after another.

Settings come like the sources': `[destinations.<name>]` in .dlt/config.toml, secrets in secrets.toml, any
key overridable as DESTINATIONS__<NAME>__<KEY>. A destination at a loopback URL without secrets gets the
sandbox's public ones (`[sandbox.<name>]`), as sources do.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dlt

from destinations.common.push import DestinationResult, push
from pipelines.errors import describe
from pipelines.registry import DESTINATIONS
from pipelines.vendors import LOOPBACK
from warehouse import Warehouse


class DestinationConfigError(ValueError):
    pass


def pushes_enabled() -> bool:
    """`[destinations] enabled = false` (or DESTINATIONS__ENABLED=false) turns the push step off, e.g. for a
    staging copy of the job that must not write to the vendors; `--push-only` still pushes."""
    return dlt.config.get("destinations.enabled", bool) is not False


def env_key(name: str, key: str) -> str:
    return f"DESTINATIONS__{name.upper()}__{key.upper()}"


def settings(name: str) -> dict[str, Any]:
    spec = DESTINATIONS[name]
    values: dict[str, Any] = {key: dlt.config.get(f"destinations.{name}.{key}", kind)
                              for key, kind in spec.settings.items()}
    values.update({key: dlt.secrets.get(f"destinations.{name}.{key}") for key in spec.secrets})
    base_url = values.get("base_url") or ""
    if urlsplit(str(base_url)).hostname in LOOPBACK:  # the sandbox: its public credentials if none are set
        for key in spec.secrets:
            if values.get(key) is None:
                values[key] = dlt.config.get(f"sandbox.{name}.{key}")
    missing = [key for key in ("base_url", *spec.secrets) if not values.get(key)]
    if missing:
        raise DestinationConfigError(
            f"{name}: {', '.join(missing)} not configured ([destinations.{name}] in .dlt/config.toml or "
            f"secrets.toml, or {', '.join(env_key(name, k) for k in missing)})")
    return values


def run_pushes(warehouse: Warehouse, names: list[str] | None = None, dry_run: bool = False) -> list[DestinationResult]:
    results = []
    for name in names or list(DESTINATIONS):
        started = time.monotonic()
        try:
            config = settings(name)
            with warehouse.connect(read_only=dry_run) as con:
                results.append(push(DESTINATIONS[name], config, con, journal_dir(warehouse), dry_run=dry_run))
        except Exception as exc:  # one destination failing must not stop the others
            results.append(DestinationResult(name, "failed", time.monotonic() - started, error=describe(exc, name)))
    return results


def journal_dir(warehouse: Warehouse) -> Path:
    """This machine's push journals for the warehouse, beside dlt's working state."""
    return Path(warehouse.pipelines_dir()) / "push-journal"


def use_sandbox_destinations(base_url: str) -> None:
    """Point every destination at a sandbox in this process (the demo, benchmarks)."""
    for name in DESTINATIONS:
        os.environ[env_key(name, "base_url")] = f"{base_url.rstrip('/')}/{name}"
