"""Schema drift without a warehouse: how rows keep absence apart from null, and what `Drift` records."""

from __future__ import annotations

import pyarrow as pa
import pytest

from sources.common.drift import MISSING, UNDOCUMENTED, Drift, undocumented_in
from sources.integr8.helpers import rows_to_arrow
from sources.webmarketer.helpers import event_row, outlay_row
from vendor_http import VendorError

pytestmark = pytest.mark.fast

EVENT = {"_id": "e1", "projectId": "p1", "userId": "u1", "trackerId": "t1", "eventType": "purchase",
         "eventDate": "2026-10-01T10:00:00.000Z", "createdAt": "2026-10-01T10:00:00.000Z",
         "updatedAt": "2026-10-01T10:00:00.000Z", "metrics": []}


def test_webmarketer_rows_leave_out_a_field_the_vendor_left_out_and_keep_an_explicit_null():
    assert "tracker_id" in event_row(EVENT)
    without = event_row({k: v for k, v in EVENT.items() if k != "trackerId"})
    assert "tracker_id" not in without and without["user_id"] == "u1"
    assert event_row({**EVENT, "trackerId": None})["tracker_id"] is None
    outlay = outlay_row({"_id": "o1", "projectId": "p1", "updatedAt": "2026-10-01T10:00:00.000Z"})
    assert "amount" not in outlay and "country" not in outlay and outlay["project_id"] == "p1"


def test_integr8_report_rows_leave_out_a_field_no_row_carries_and_name_undocumented_ones():
    rows = [{"real_tx_id": "a", "click_time": "2026-10-01 10:00:00", "country": "DE", "new_field": 1},
            {"real_tx_id": "b", "click_time": "2026-10-01 11:00:00", "country": None}]
    table = rows_to_arrow("clicks", rows, ["real_tx_id", "click_time", "country", "user_agent"], "UTC")
    assert table.column_names == ["real_tx_id", "click_time", "country"]
    assert table["country"].to_pylist() == ["DE", None]
    assert undocumented_in(table) == ["new_field"]
    with pytest.raises(VendorError, match="clicks records arrived without click_time"):
        rows_to_arrow("clicks", [{"real_tx_id": "a"}], ["real_tx_id", "click_time"], "UTC")


def test_drift_opens_once_and_closes_when_a_run_reads_the_documented_shape_again():
    state: dict = {}
    documented = ["id", "ts", "cogs"]

    def run(batch) -> tuple[set[str], list[dict]]:
        drift = Drift("sales", "id", documented, ["credits"], state)
        missing = drift.observe(batch)
        return missing, drift.rows("ts", "start")

    missing, rows = run([{"id": 1, "ts": 1, "credits": []}, {"id": 2, "ts": 2, "cogs": None, "tag": "x"}])
    assert missing == {"cogs"}
    assert [(r["column_name"], r["change"], r["records"], r["example_record_id"], r["resolved"]) for r in rows] == [
        ("cogs", MISSING, 1, "1", False), ("tag", UNDOCUMENTED, 1, "2", False)]
    assert all(r["ts"] == "start" for r in rows)  # the window's start: it moves no high-water mark
    assert run([{"id": 1, "ts": 1}]) == ({"cogs"}, [{"table_name": "sales", "column_name": "tag",
                                                     "change": UNDOCUMENTED, "resolved": True, "ts": "start"}])
    assert run([]) == (set(), [])  # nothing read: nothing can be said to be over
    arrow = pa.table({"id": [1], "ts": [1]})
    assert run(arrow) == ({"cogs"}, [])  # still open: not written again
    missing, rows = run(pa.table({"id": [1], "ts": [1], "cogs": [2.0]}))
    assert (missing, [(r["column_name"], r["resolved"]) for r in rows]) == (set(), [("cogs", True)])
    assert state["drift"] == {}
