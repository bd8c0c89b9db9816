"""Checks shared by the push tests: what the sandbox's write-only vendors hold against the outboxes."""

from __future__ import annotations

import json
from collections import Counter, defaultdict

import duckdb
import pytest

from pipelines.registry import SOURCES

ALL = list(SOURCES)
# The named fault profiles as they are, except that a 429 asks for no wait: a push is one call per row
# (hundreds), and the profiles' Retry-After of 1 s would keep it waiting for minutes. Honouring Retry-After
# is the shared client's and is tested with the sources (tests/sources/test_http_client.py).
NO_WAIT = {"retry_after": 0}


def rows(warehouse, sql):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        cursor = con.execute(sql)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def summary_of(path) -> dict[str, dict]:
    return {d["destination"]: d for d in json.loads(path.read_text())["destinations"]}


def segments(warehouse) -> dict[str, str]:
    return {r["row_key"]: r["segment"] for r in rows(warehouse, "select * from outbox.outbox_convertloop__people")}


def parked(warehouse, outcome: str) -> set[str]:
    """The row keys waiting in reverse_etl.open_rejects with `outcome` (refused, failed, unknown)."""
    return {r["row_key"] for r in rows(warehouse, "select row_key from reverse_etl.open_rejects "
                                                  f"where outcome = '{outcome}'")}


def assert_vendors_hold_the_outboxes(sandbox, warehouse, repeated_events: int = 0) -> None:
    """`repeated_events`: how many ConvertLoop events may have gone out twice (one per kill, documented). An
    event parked as `unknown` (its answer was lost) may or may not be held, and is never held twice."""
    received, held = sandbox.control("GET", "received"), sandbox.control("GET", "held")
    # Improvely: every sendable outbox row once, with its revenue; no reference twice.
    outbox = {r["reference"]: r for r in rows(warehouse, "select * from outbox.outbox_improvely__conversions "
                                                         "where skip_reason is null")}
    conversions = received.get("improvely", {}).get("conversion", [])
    references = Counter(c["reference"] for c in conversions)
    assert references and max(references.values()) == 1
    assert set(references) == set(outbox)
    by_currency: dict[str, float] = defaultdict(float)
    for call in conversions:
        by_currency[outbox[call["reference"]]["currency"]] += float(call["revenue"])
    expected: dict[str, float] = defaultdict(float)
    for row in outbox.values():
        expected[row["currency"]] += row["revenue"]
    assert by_currency == pytest.approx(expected, abs=0.01)
    # ConvertLoop: one person per outbox person, in exactly its segment; one event per outbox event.
    people = {r["email"] or r["user_id"]: r for r in rows(
        warehouse, "select * from outbox.outbox_convertloop__people where skip_reason is null")}
    held_people = {p.get("email") or p.get("user_id"): p for p in held["convertloop"]["people"]}
    assert set(held_people) == set(people)
    for key, person in people.items():
        assert held_people[key]["segments"] == ([person["segment"]] if person["segment"] else []), key
        assert held_people[key]["top_channel"] == person["top_channel"]
    events = rows(warehouse, "select * from outbox.outbox_convertloop__events where skip_reason is null")
    lost = parked(warehouse, "unknown")  # once: read per event, it opened the warehouse ~1,000 times (~35 s of CPU)
    unknown = {e["order_reference"] for e in events if e["row_key"] in lost}
    logged = Counter(e["metadata"]["order_reference"] for e in received["convertloop"]["event_logs"])
    expected = {e["order_reference"] for e in events}
    assert set(logged) <= expected and expected - set(logged) <= unknown
    assert sum(logged.values()) - len(logged) <= repeated_events and max(logged.values()) <= 1 + repeated_events
