"""The Dagster definitions validate and their asset graph lists every vendor table group, mart, the publication and
each push (split from test_dagster.py so the suite runs them beside the job's runs)."""

from __future__ import annotations

import os
import subprocess
import sys

from orchestration.definitions import build_definitions
from pipelines.registry import DESTINATIONS, SOURCES
from tests.warehouse import ROOT


def test_the_definitions_validate_and_list_every_table_group_mart_publication_and_push(tmp_path):
    warehouse = tmp_path / "wh.duckdb"  # parsing needs no data
    definitions = build_definitions(str(warehouse))
    keys = {key.to_user_string() for key in definitions.get_repository_def().asset_graph.get_all_asset_keys()}
    for vendor in SOURCES:
        assert any(key.startswith(f"{vendor}/") for key in keys), vendor
    assert {"marts/attribution", "marts/channel_performance", "marts/data_quality", "published_marts"} <= keys
    assert {f"push_{name}" for name in DESTINATIONS} <= keys
    validated = subprocess.run([sys.executable, "-m", "dagster", "definitions", "validate", "-m",
                                "orchestration.definitions"], cwd=ROOT, capture_output=True, text=True, timeout=300,
                               env={**os.environ, "WAREHOUSE__LOCATION": str(warehouse)})
    assert validated.returncode == 0, validated.stdout + validated.stderr
