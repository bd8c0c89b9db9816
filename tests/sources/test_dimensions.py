"""Tables read whole every run (projects, offers, campaigns): loaded only when their content changed."""

from __future__ import annotations

import dlt
import duckdb
import pytest

from sources.common.incremental import dimension

pytestmark = pytest.mark.fast


def test_a_dimension_loads_only_when_its_content_changes(tmp_path):
    rows = [{"id": 1, "name": "alpha"}, {"id": 2, "name": "beta"}]

    @dimension("things", primary_key="id")
    def things():
        yield list(rows)

    warehouse = tmp_path / "wh.duckdb"
    pipeline = dlt.pipeline("dimensions", destination=dlt.destinations.duckdb(str(warehouse)),
                            pipelines_dir=str(tmp_path / "state"), dataset_name="vendor")

    def loaded() -> int:
        pipeline.run(things())
        return pipeline.last_trace.last_normalize_info.row_counts.get("things", 0)

    assert loaded() == 2
    assert loaded() == 0  # nothing changed: nothing extracted, nothing merged
    rows[1] = {"id": 2, "name": "beta (renamed)"}
    assert loaded() == 2  # the table again, merged by key
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select id, name from vendor.things order by id").fetchall() == [
            (1, "alpha"), (2, "beta (renamed)")]
