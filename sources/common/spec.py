"""What the runner needs to know of a vendor source; each vendor package declares one `SPEC`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SourceSpec:
    name: str  # the dataset, the config section `[sources.<name>]` and the runner's `--vendors` name
    source: Callable[..., Any]  # the @dlt.source function
    secrets: tuple[str, ...]  # settings that belong in secrets.toml, e.g. ("api_key",)
