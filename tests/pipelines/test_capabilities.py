"""The warehouse's dlt destinations resolve their capabilities once per naming convention, and answer what dlt's
own factory answers: the same capabilities, a copy each time (dlt changes the one it gets), the same type."""

from __future__ import annotations

import dataclasses

import dlt
import pytest
from dlt.common.normalizers.naming import snake_case, sql_cs_v1
from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials

from warehouse import Warehouse

pytestmark = pytest.mark.fast


def fields(caps) -> dict:
    return {field.name: getattr(caps, field.name) for field in dataclasses.fields(caps)}


def test_capabilities_resolve_once_per_naming_and_equal_dlts(tmp_path, monkeypatch):
    path = tmp_path / "w.duckdb"
    ours = Warehouse(str(path)).destination()
    theirs = dlt.destinations.duckdb(DuckDbCredentials(str(path), global_config={"memory_limit": "1GB"}))
    assert ours.destination_type == theirs.destination_type  # pipeline state keeps the type it always had

    resolved = []
    resolve = type(theirs).configuration  # ours subclasses dlt's factory (its merge job): counts both
    monkeypatch.setattr(type(theirs), "configuration",
                        lambda self, *a, **k: resolved.append(1) or resolve(self, *a, **k))
    for naming in (None, snake_case.NamingConvention(), sql_cs_v1.NamingConvention()):
        first = ours.capabilities(naming=naming)
        first.preferred_loader_file_format = "changed by a caller"
        again = ours.capabilities(naming=naming)
        assert fields(again) == fields(theirs.capabilities(naming=naming))
        assert again.preferred_loader_file_format != "changed by a caller"
    assert len(resolved) == 3 + 3  # once per naming convention by ours, every time by dlt's own
