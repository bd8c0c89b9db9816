"""ConvertLoop (write-only): `POST /v1/people` and `POST /v1/event_logs`, JSON, Basic auth app_id:api_key.

401 for missing or wrong credentials, 422 when a person cannot be identified or an event has no
name. The event time key is accepted as `occurred_at`, `ocurred_at` or `occured_at` (clients differ).
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from simulator.http import HttpError, Request, Response

if TYPE_CHECKING:
    from simulator.context import VendorContext

NAME = "convertloop"
CREDENTIALS = {"app_id": "cl-sandbox-app", "api_key": "cl-sandbox-key"}

IDENTITY_KEYS = ("pid", "user_id", "email")
TIME_KEYS = ("occurred_at", "ocurred_at", "occured_at")


def _unprocessable(message: str) -> HttpError:
    return HttpError(Response.of_json({"success": False, "errors": [message]}, 422))


class Vendor:
    def __init__(self, ctx: VendorContext) -> None:
        self.ctx = ctx

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
        self.ctx.record("people", person)
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
        self.ctx.record("event_logs", event)
        return Response.of_json({"success": True})
