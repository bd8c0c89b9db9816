"""ConvertLoop (write-only): `POST /v1/people` and `POST /v1/event_logs`, JSON, Basic auth app_id:api_key.

401 for missing or wrong credentials, 422 when a person cannot be identified or an event has no
name. The event time key is accepted as `occurred_at`, `ocurred_at` or `occured_at` (clients differ).

People are upserted: a call whose pid, email or user_id matches a known person updates that person's
attributes; `add_to_segments` / `remove_from_segments` (a name or a comma-separated list) change their
segment membership. An event's `person` is upserted the same way. `GET /_sim/held` shows the people
ConvertLoop holds, with their segments; `/_sim/received` every accepted call with its `received_at`.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from simulator.http import HttpError, Request, Response
from simulator.vendors.common import iso_z

if TYPE_CHECKING:
    from simulator.context import VendorContext

NAME = "convertloop"
CREDENTIALS = {"app_id": "cl-sandbox-app", "api_key": "cl-sandbox-key"}

IDENTITY_KEYS = ("pid", "user_id", "email")
TIME_KEYS = ("occurred_at", "ocurred_at", "occured_at")


def _unprocessable(message: str) -> HttpError:
    return HttpError(Response.of_json({"success": False, "errors": [message]}, 422))


def _names(value: Any) -> list[str]:
    items = value if isinstance(value, list) else str(value or "").split(",")
    return [name.strip() for name in items if str(name).strip()]


class Vendor:
    def __init__(self, ctx: VendorContext) -> None:
        self.ctx = ctx
        self.persons: list[dict[str, Any]] = []  # who ConvertLoop holds: identifiers, attributes, segments

    def held(self) -> dict[str, Any]:
        return {"people": [{**p, "segments": sorted(p["segments"])} for p in self.persons]}

    def _upsert(self, person: dict[str, Any]) -> None:
        keys = {(k, person[k]) for k in IDENTITY_KEYS if person.get(k)}
        match = next((p for p in self.persons if keys & {(k, p[k]) for k in IDENTITY_KEYS if p.get(k)}), None)
        if match is None:
            match = {"segments": set()}
            self.persons.append(match)
        changes = {k: v for k, v in person.items() if k not in ("add_to_segments", "remove_from_segments")}
        match.update(changes)
        match["segments"] |= set(_names(person.get("add_to_segments")))
        match["segments"] -= set(_names(person.get("remove_from_segments")))

    def routes(self) -> list[tuple[str, str, Any]]:
        return [("POST", "/v1/people", self.people), ("POST", "/v1/event_logs", self.event_logs)]

    def _body(self, request: Request) -> dict[str, Any]:
        creds = CREDENTIALS
        expected = base64.b64encode(f"{creds['app_id']}:{creds['api_key']}".encode()).decode()
        if request.headers.get("authorization") != f"Basic {expected}":
            raise HttpError(Response.of_json({"success": False, "errors": ["Unauthorized"]}, 401))
        body = request.json()
        if not isinstance(body, dict):
            raise HttpError(Response.of_json({"success": False, "errors": ["Body must be a JSON object"]}, 400))
        return body

    def people(self, request: Request) -> Response:
        person = self._body(request)
        if not any(person.get(k) for k in IDENTITY_KEYS):
            raise _unprocessable("pid, user_id or email is required")
        with self.ctx.lock:
            self._upsert(person)
            self.ctx.record("people", {**person, "received_at": iso_z(self.ctx.clock)})
        return Response.of_json({"success": True})

    def event_logs(self, request: Request) -> Response:
        event = self._body(request)
        if not event.get("name"):
            raise _unprocessable("name is required")
        person = event.get("person") or {}
        if not isinstance(person, dict) or not any(person.get(k) for k in IDENTITY_KEYS):
            raise _unprocessable("person with pid, user_id or email is required")
        times = [event[k] for k in TIME_KEYS if k in event]
        if times and not isinstance(times[0], (str, int)):
            raise _unprocessable("occurred_at must be a datetime")
        with self.ctx.lock:
            self._upsert(person)
            self.ctx.record("event_logs", {**event, "received_at": iso_z(self.ctx.clock)})
        return Response.of_json({"success": True})
