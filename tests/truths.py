"""The truths every warehouse kind must hold after a full run against the sandbox, checked through one
helper so the DuckDB file and the DuckLake are held to exactly the same standard."""

from __future__ import annotations

from typing import Any

import duckdb
import pytest

CONVERSION_TYPES = {"sale": "sale", "action": "action", "engagement": "engagement"}


def assert_warehouse_truths(con: duckdb.DuckDBPyConnection, truth: list[dict[str, Any]]) -> None:
    """De-duplicated conversions equal /_sim/truth/conversions (order, revenue, currency, status, type and
    the vendors that reported it), and every model's credits sum to 1 per conversion."""
    ours = con.execute("select conversion_id, revenue, currency, status, conversion_type, vendors "
                       "from marts.conversions").fetchall()
    expected = {(t["order_ref"], round(t["revenue"], 2), t["currency"], t["status"], CONVERSION_TYPES[t["type"]])
                for t in truth}
    assert len(ours) == len(truth)
    assert {(r[0], round(r[1], 2), r[2], r[3], r[4]) for r in ours} == expected
    assert sum(r[1] for r in ours) == pytest.approx(sum(t["revenue"] for t in truth))
    vendors = {r[0]: r[5] for r in ours}
    assert all(sorted(vendors[t["order_ref"]]) == sorted(t["vendors"]) for t in truth)

    models = {m for (m,) in con.execute("select distinct attribution_model from marts.attribution").fetchall()}
    assert len(models) >= 2
    off = con.execute("select conversion_id, attribution_model, sum(credit) from marts.attribution "
                      "group by all having abs(sum(credit) - 1) > 1e-9 limit 5").fetchall()
    assert off == []
    credited = con.execute("select count(distinct conversion_id) from marts.attribution").fetchone()[0]
    touched = con.execute("select count(*) from marts.conversions where touches > 0").fetchone()[0]
    assert credited == touched > 0
