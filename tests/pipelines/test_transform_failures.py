"""How a failed dbt build is told in the run's summary (no dbt process: the summary line from dbt's output)."""

from __future__ import annotations

import pytest

from pipelines.transform import failure_detail
from warehouse import Warehouse

pytestmark = pytest.mark.fast


def test_a_build_that_ran_out_of_disk_says_so(tmp_path):
    """dbt reports a full disk as a fragment of what it was logging; the summary says what happened and where."""
    output = ("12:00:01  1 of 49 START sql table model marts.attribution ....\n"
              "12:00:09  Unhandled error while executing target/run/attribution/models/marts/attribution.sql\n"
              "[Errno 28] No space left on device\n"
              "12:00:09  1 of 49 ERROR creating sql table model marts.attribution\n")
    detail = failure_detail(output, Warehouse(str(tmp_path / "w.duckdb")))
    assert detail.startswith("no space left on device while dbt built") and str(tmp_path) in detail
    assert failure_detail("12:00:09  1 of 49 ERROR creating model x\n", Warehouse(str(tmp_path / "w.duckdb"))) == \
        "12:00:09  1 of 49 ERROR creating model x"
