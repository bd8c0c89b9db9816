"""Improvely: each de-duplicated completed or refunded conversion once (outbox_improvely__conversions).

Settings `[destinations.improvely]`: `base_url`, `projects` (brand -> Improvely project id, one project per
brand); secret `api_key`. Improvely identifies the visitor by label, IP + user agent, previous reference or
subid; we send the email as label, else the IP and user agent of the Integr8 click that brought the order
(Integr8's `sub_id` names an affiliate's sub-account shared by many visitors, so it is not sent as subid).
Improvely cannot update a conversion: a refund goes out once as a `refund` goal with negative revenue and
reference `<reference>-refund`. The projects should have Improvely's duplicate filter on, so a re-send after
a crash (the one in-flight request) never counts an order twice.
"""

from __future__ import annotations

from typing import Any

from destinations.common.push import PUSH_RETRY
from destinations.common.spec import DestinationSpec, Outbox, Skip
from vendor_http import VendorAuthError, VendorClient, VendorError

CONVERSIONS = Outbox("conversions", "outbox_improvely__conversions")


class ImprovelyClient:
    def __init__(self, settings: dict[str, Any]) -> None:
        self.api_key = str(settings["api_key"])
        self.projects = {str(brand): str(project) for brand, project in (settings.get("projects") or {}).items()}
        self.http = VendorClient("improvely", str(settings["base_url"]), secrets=[self.api_key],
                                 retry=PUSH_RETRY)

    def payload(self, outbox: Outbox, row: dict[str, Any]) -> dict[str, Any] | Skip:
        project = self.projects.get(str(row["brand"]))
        if project is None:
            return Skip(f"no Improvely project configured for brand {row['brand']}")
        payload = {"project": project, "goal": row["goal"], "revenue": f"{row['revenue']:.2f}",
                   "reference": row["reference"], "date": str(row["occurred_at_unix"])}
        if row.get("label"):
            payload["label"] = row["label"]
        else:
            payload.update(ip=row["ip"], user_agent=row["user_agent"])
        return payload

    def send(self, outbox: Outbox, payload: dict[str, Any], previous: dict[str, Any] | None) -> str:
        endpoint = "POST /v1/conversion.json"
        response = self.http.request("POST", "/v1/conversion.json", data={**payload, "key": self.api_key},
                                     ok=(200, 400))
        if response.status_code == 200:
            return response.text
        # Improvely answers every error with HTTP 400 and a type: a bad key fails the destination, anything
        # else is this row's rejection.
        try:
            error = response.json()
        except ValueError:
            error = {}
        detail = error.get("message") or self.http.redact.excerpt(response.text, 300)
        message = f"{error.get('type', 'error')}: {detail}"
        if error.get("type") == "authentication":
            raise VendorAuthError("improvely", endpoint, message, 400)
        raise VendorError("improvely", endpoint, message, 400)

    def close(self) -> None:
        self.http.close()


SPEC = DestinationSpec(name="improvely", outboxes=(CONVERSIONS,), settings={"base_url": str, "projects": dict},
                       secrets=("api_key",), client=ImprovelyClient)
