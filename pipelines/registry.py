"""The registry: which vendor sources exist. Everything else (the runner, the transforms' source list,
sandbox settings, tests) derives from it. Adding a vendor: its package under `sources/`, one line here."""

from __future__ import annotations

from importlib import import_module

from sources.common.spec import SourceSpec

SOURCE_PACKAGES = (
    "clickmagick",
    "integr8",
    "webmarketer",
)

SOURCES: dict[str, SourceSpec] = {spec.name: spec for spec in
                                  (import_module(f"sources.{package}").SPEC for package in SOURCE_PACKAGES)}
