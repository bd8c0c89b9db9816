"""The registry: which vendor sources and destinations exist. Everything else (the runner, the transforms'
source list, sandbox settings, tests) derives from it. Adding a vendor: its package under `sources/` (or
`destinations/`), one line here."""

from __future__ import annotations

from importlib import import_module

from destinations.common.spec import DestinationSpec
from sources.common.spec import SourceSpec

SOURCE_PACKAGES = (
    "clickmagick",
    "integr8",
    "webmarketer",
)

SOURCES: dict[str, SourceSpec] = {spec.name: spec for spec in
                                  (import_module(f"sources.{package}").SPEC for package in SOURCE_PACKAGES)}

DESTINATION_PACKAGES = (
    "improvely",
    "convertloop",
)

DESTINATIONS: dict[str, DestinationSpec] = {spec.name: spec for spec in (
    import_module(f"destinations.{package}").SPEC for package in DESTINATION_PACKAGES)}
