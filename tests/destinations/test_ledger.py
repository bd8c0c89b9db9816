"""The ledger's journal: what a killed push leaves behind is folded once, and a torn line is the one call
in flight, never a lost or doubled record."""

from __future__ import annotations

import duckdb
import pytest

from destinations.common.journal import Journal
from destinations.common.ledger import REFUSED, SCHEMA, Ledger, Waiting

pytestmark = pytest.mark.fast


def ledger_at(tmp_path, con=None) -> Ledger:
    ledger = Ledger(con or duckdb.connect(str(tmp_path / "wh.duckdb")), "improvely",
                    Journal(tmp_path / "journal" / "improvely.jsonl"))
    ledger.ensure()
    return ledger


def count(ledger: Ledger, table: str) -> int:
    return ledger.con.execute(f"select count(*) from {SCHEMA}.{table}").fetchone()[0]


def test_the_diff_sees_journaled_calls_before_they_are_folded(tmp_path):
    ledger = ledger_at(tmp_path)
    ledger.record_rejected("conversion", "A", "h1", 400, "unknown project")
    ledger.record_rejected("conversion", "B", "h2", 400, "unknown project")
    ledger.record_sent("conversion", "B", "h3", {"revenue": 1}, "ok")  # B fixed and sent after its refusal
    assert count(ledger, "ledger") == 0  # nothing folded yet
    assert ledger.rejected("conversion") == {"A": Waiting("h1", REFUSED)}
    assert {k: s.content_hash for k, s in ledger.sent("conversion").items()} == {"B": "h3"}
    ledger.fold()
    assert not ledger.journal.path.exists()
    assert (count(ledger, "ledger"), count(ledger, "rejects")) == (1, 2)
    assert ledger.rejected("conversion") == {"A": Waiting("h1", REFUSED)}
    assert ledger.sent("conversion")["B"].payload == {"revenue": 1}


def test_a_fold_repeated_after_a_crash_records_each_call_once(tmp_path):
    ledger = ledger_at(tmp_path)
    for key in "ABC":
        ledger.record_sent("conversion", key, f"h{key}", {"key": key}, "ok")
    journaled = ledger.journal.path.read_text()
    ledger.fold()
    ledger.journal.path.write_text(journaled)  # killed after the fold's commit, before the journal was emptied
    ledger.record_sent("conversion", "D", "hD", {"key": "D"}, "ok")
    ledger.fold()
    assert count(ledger, "ledger") == 4
    assert ledger.con.execute(f"select count(distinct row_key) from {SCHEMA}.ledger").fetchone()[0] == 4


def test_a_torn_line_is_dropped_and_does_not_swallow_the_next_record(tmp_path):
    ledger = ledger_at(tmp_path)
    ledger.record_sent("conversion", "A", "hA", {"key": "A"}, "ok")
    ledger.journal.close()
    with open(ledger.journal.path, "a") as journal:
        journal.write('{"table": "ledger", "row_key": "B", "conte')  # killed mid-write
    resumed = Ledger(ledger.con, "improvely", Journal(ledger.journal.path))
    resumed.record_sent("conversion", "C", "hC", {"key": "C"}, "ok")
    assert sorted(resumed.sent("conversion")) == ["A", "C"]
    resumed.fold()
    assert sorted(r[0] for r in ledger.con.execute(f"select row_key from {SCHEMA}.ledger").fetchall()) == ["A", "C"]
