"""ConvertLoop: people (identify, attributes, a segment per top channel) and event logs (one per order).

Settings `[destinations.convertloop]`: `base_url`; secrets `app_id`, `api_key` (Basic auth). People are
upserted by email or user id, so re-sending a changed person is an update; when their segment changes the
call also removes them from the old one. Event logs are append-only in ConvertLoop, which has no idempotency
key and no way to read what it holds: each order's event is sent once, never retried after an answer that
leaves open whether ConvertLoop logged it (500, 502, 504, a lost connection: the row is parked as `unknown` in
reverse_etl.rejects), and only a crash between ConvertLoop's 200 and our journal line can send one twice.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from destinations.common.push import PUSH_RETRY
from destinations.common.spec import DestinationSpec, Outbox
from vendor_http import VendorClient

PEOPLE = Outbox("people", "outbox_convertloop__people")
EVENTS = Outbox("events", "outbox_convertloop__events", append_only=True)


def identity(row: dict[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in ("email", "user_id") if row.get(k)}


def iso(value: Any) -> str | None:
    return value.isoformat() if hasattr(value, "isoformat") else value


class ConvertLoopClient:
    def __init__(self, settings: dict[str, Any]) -> None:
        app_id, api_key = str(settings["app_id"]), str(settings["api_key"])
        self.http = VendorClient("convertloop", str(settings["base_url"]), auth=httpx.BasicAuth(app_id, api_key),
                                 secrets=[api_key], retry=PUSH_RETRY)

    def payload(self, outbox: Outbox, row: dict[str, Any]) -> dict[str, Any]:
        if outbox is PEOPLE:
            return {**identity(row), "first_touch_channel": row["first_touch_channel"],
                    "last_touch_channel": row["last_touch_channel"], "top_channel": row["top_channel"],
                    "top_channel_model": row["top_channel_model"],
                    "lifetime_revenue": json.loads(row["lifetime_revenue"]), "conversions": int(row["conversions"]),
                    "last_conversion_at": iso(row["last_conversion_at"]),
                    **({"add_to_segments": row["segment"]} if row["segment"] else {})}
        return {"name": row["name"], "ocurred_at": iso(row["occurred_at"]), "person": identity(row),
                "metadata": {"order_reference": row["order_reference"], "revenue": row["revenue"],
                             "currency": row["currency"], "status": row["status"],
                             "channel_credits": json.loads(row["channel_credits"]),
                             "credit_model": row["credit_model"]}}

    def send(self, outbox: Outbox, payload: dict[str, Any], previous: dict[str, Any] | None) -> str:
        if outbox is PEOPLE:
            body = dict(payload)
            old = (previous or {}).get("add_to_segments")
            if old and old != payload.get("add_to_segments"):
                body["remove_from_segments"] = old
            return self.http.request("POST", "/v1/people", json=body).text
        # An event log is appended: ConvertLoop has no key to tell a repeat, so it is never sent twice blindly.
        return self.http.request("POST", "/v1/event_logs", json=payload, idempotent=False).text

    def close(self) -> None:
        self.http.close()


SPEC = DestinationSpec(name="convertloop", outboxes=(PEOPLE, EVENTS), settings={"base_url": str},
                       secrets=("app_id", "api_key"), client=ConvertLoopClient)
