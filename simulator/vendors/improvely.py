"""Improvely (write-only): project, link, conversion, user and user_permission endpoints.

Parameters come form-encoded or in the query string with the API `key`; errors are HTTP 400
`{"status": "error", "type": ..., "message": ...}` as documented. Accepted calls are recorded for
`GET /_sim/received`, each with the sandbox clock's time (`received_at`).

The account (our choice, see SCHEMA.md): project 1, plus one project per brand (101, 102, 103 in the
world's brand order) with the duplicate filter on. A conversion is created only for a visitor profile
Improvely knows, as the docs say: a label that is a world visitor's email, the IP and user agent of a
world visitor, a subid that is an Integr8 click's transaction id (the click id affiliate links carry), or
the reference of a conversion accepted before. Otherwise HTTP 400 with type `visitor` and nothing is
created. A project with the duplicate filter answers success to a reference it already has and records
nothing (Improvely removes such conversions).
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

import numpy as np

from simulator.http import HttpError, Request, Response
from simulator.vendors.common import iso_z
from simulator.views import click_tx_ids, visitor_ids
from simulator.world import BRANDS

if TYPE_CHECKING:
    from simulator.context import VendorContext

NAME = "improvely"
CREDENTIALS = {"api_key": "imp-sandbox-key"}
BRAND_PROJECTS = {101 + i: brand.key for i, brand in enumerate(BRANDS)}  # duplicate filter on


def error(kind: str, message: str) -> HttpError:
    return HttpError(Response.of_json({"status": "error", "type": kind, "message": message}, 400))


def _flat(request: Request) -> dict[str, str]:
    return {k: v[-1] for k, v in request.form().items()}


def _require(params: dict[str, str], *names: str) -> None:
    for name in names:
        if not params.get(name):
            raise error("parameters", f"Missing required parameter: `{name}`.")


def _numeric(params: dict[str, str], name: str) -> None:
    if params.get(name):
        try:
            float(params[name])
        except ValueError:
            raise error("parameters", f"Invalid parameter value: `{name}`.") from None


def _boolean(params: dict[str, str], *names: str) -> None:
    for name in names:
        if name in params and params[name] not in ("true", "false"):
            raise error("parameters", f"Invalid parameter value: `{name}`.")


class Vendor:
    def __init__(self, ctx: VendorContext) -> None:
        self.ctx = ctx
        self.projects: set[int] = {1, *BRAND_PROJECTS}
        self.duplicate_filter: set[int] = set(BRAND_PROJECTS)
        self.references: dict[int, set[str]] = {}  # accepted conversion references per project
        self._ids = itertools.count(200)
        self._profiles: dict[str, set[Any]] | None = None

    def profiles(self) -> dict[str, set[Any]]:
        """The visitor identifiers Improvely's tracking saw: every world visitor's email and IP + user agent,
        and every Integr8 click's transaction id (computed once, on the first conversion call)."""
        if self._profiles is None:
            world = self.ctx.world
            ids = visitor_ids(world, np.arange(len(world.visitors["uid"])))
            self._profiles = {
                "label": {e for e in ids["email"] if e},
                "visit": set(zip(ids["ip"], ids["user_agent"], strict=True)),
                "subid": set(click_tx_ids(world, np.arange(len(world.i8_clicks["ms"])))),
            }
        return self._profiles

    def routes(self) -> list[tuple[str, str, Any]]:
        return [
            ("POST", "/v1/project.json", self.create_project),
            ("PUT", "/v1/project.json", self.update_project),
            ("DELETE", "/v1/project.json", self.delete_project),
            ("POST", "/v1/link.json", self.link),
            ("POST", "/v1/conversion.json", self.conversion),
            ("POST", "/v1/user.json", self.user),
            ("DELETE", "/v1/user.json", self.delete_user),
            ("POST", "/v1/user_permission.json", self.user_permission),
        ]

    def _accept(self, request: Request, resource: str) -> dict[str, str]:
        params = _flat(request)
        if params.get("key") != CREDENTIALS["api_key"]:
            raise error("authentication", "Invalid API key.")
        return params

    def _record(self, resource: str, params: dict[str, str]) -> None:
        safe = {k: v for k, v in params.items() if k not in ("key", "password")}
        self.ctx.record(resource, {**safe, "received_at": iso_z(self.ctx.clock)})

    def _project_id(self, params: dict[str, str], name: str = "project") -> int:
        try:
            project = int(params.get(name, ""))
        except ValueError:
            raise error("parameters", f"Missing or invalid required parameter: `{name}`.") from None
        if project not in self.projects:
            raise error("parameters", f"Missing or invalid required parameter: `{name}`.")
        return project

    def create_project(self, request: Request) -> Response:
        params = self._accept(request, "project")
        _require(params, "name")
        _boolean(params, "google_url_compatibility", "track_organic", "duplicate_filter")
        if params.get("goal_mode", "all") not in ("all", "one"):
            raise error("parameters", "Invalid parameter value: `goal_mode`.")
        project = next(self._ids)
        self.projects.add(project)
        if params.get("duplicate_filter") == "true":
            self.duplicate_filter.add(project)
        self._record("project", {**params, "id": str(project)})
        return Response.of_json({"status": "success", "id": project, "website_code": "<script></script>"})

    def update_project(self, request: Request) -> Response:
        params = self._accept(request, "project")
        self._project_id(params, "id")
        self._record("project", params)
        return Response.of_json({"status": "success"})

    def delete_project(self, request: Request) -> Response:
        params = self._accept(request, "project")
        self.projects.discard(self._project_id(params, "id"))
        return Response.of_json({"status": "success"})

    def link(self, request: Request) -> Response:
        params = self._accept(request, "link")
        self._project_id(params)
        _require(params, "url", "campaign")
        _numeric(params, "cost")
        self._record("link", params)
        slug = params.get("custom_url") or "lnk"
        return Response.of_json({"status": "success", "short_link": f"https://sandbox.iljmp.com/1/{slug}",
                                 "direct_link": f"{params['url']}?ims={slug}"})

    def conversion(self, request: Request) -> Response:
        params = self._accept(request, "conversion")
        project = self._project_id(params) if params.get("project") or not params.get("subid") else None
        identified = params.get("label") or params.get("previous_reference") or params.get("subid") or (
            params.get("ip") and params.get("user_agent"))
        if not identified:
            raise error("parameters", "Missing required parameter: `label`, `ip` and `user_agent`, "
                                      "`previous_reference` or `subid`.")
        _numeric(params, "revenue")
        if params.get("date") and not params["date"].isdigit():
            raise error("parameters", "Invalid parameter value: `date`.")
        _boolean(params, "notify")
        with self.ctx.lock:
            if not self._known_visitor(params):
                raise error("visitor", "No visitor profile matches the label, ip and user_agent, "
                                       "previous_reference or subid given; the conversion was not created.")
            reference = params.get("reference")
            seen = self.references.setdefault(project or 0, set())
            if reference and project in self.duplicate_filter and reference in seen:
                return Response.of_json({"status": "success"})  # the duplicate filter removes it
            if reference:
                seen.add(reference)
            self._record("conversion", params)
        return Response.of_json({"status": "success"})

    def _known_visitor(self, params: dict[str, str]) -> bool:
        known = self.profiles()
        if params.get("label") in known["label"] or params.get("subid") in known["subid"]:
            return True
        if (params.get("ip"), params.get("user_agent")) in known["visit"]:
            return True
        previous = params.get("previous_reference")
        return bool(previous) and any(previous in refs for refs in self.references.values())

    def user(self, request: Request) -> Response:
        params = self._accept(request, "user")
        _require(params, "first_name", "last_name", "email", "password")
        _boolean(params, "is_administrator", "notify_goal", "notify_fraud")
        self._record("user", params)
        return Response.of_json({"status": "success", "id": next(self._ids)})

    def delete_user(self, request: Request) -> Response:
        params = self._accept(request, "user")
        if not (params.get("id") or params.get("email")):
            raise error("parameters", "Missing parameter: either `id` or `email` must be provided.")
        return Response.of_json({"status": "success"})

    def user_permission(self, request: Request) -> Response:
        params = self._accept(request, "user_permission")
        if not (params.get("id") or params.get("email")):
            raise error("parameters", "Missing parameter: either `id` or `email` must be provided.")
        self._project_id(params)
        if params.get("permission") not in ("view", "full"):
            raise error("parameters", "Invalid parameter value: `permission`.")
        self._record("user_permission", params)
        return Response.of_json({"status": "success"})
