"""Webmarketer: projects, event types, events, trashed events, custom-ads campaigns and outlays.

Events are read by update time (a refund updates its event), trashed events by processing date and
outlays by update time (an edited outlay comes back and replaces the old amount), each with
`since`/`until` from the high-water mark less a small lookback, paged by offset. Re-read records
are passed on only when changed, and merged on `id`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

import dlt
from dlt.sources import DltResource

from sources.common.incremental import contract_resources, dimension, lookback_resource, utc
from sources.common.spec import SourceSpec
from sources.webmarketer import helpers, settings


@dlt.source(name="webmarketer", section="webmarketer", max_table_nesting=1)
def webmarketer_source(
    base_url: str = dlt.config.value,
    client_id: str = dlt.secrets.value,
    client_secret: str = dlt.secrets.value,
    initial_start: str = dlt.config.value,
    project_ids: Sequence[str] | None = None,
    token_path: str = settings.TOKEN_PATH,
    end_time: str | None = None,
    backfill_from: str | None = None,
    lookback_hours: float = settings.DEFAULT_LOOKBACK_HOURS,
) -> list[DltResource]:
    """Webmarketer conversions, data quality and spend, incrementally.

    Args:
        base_url: API root without `/api/v1` (the sandbox: `http://127.0.0.1:8765/webmarketer`).
        client_id, client_secret: service-account credentials for the token endpoint.
        initial_start: ISO-8601 start of the first run's history.
        project_ids: projects to read (default: every project the agent can see).
        token_path: the OAuth token endpoint, relative to `base_url`.
        end_time: stop here instead of now. backfill_from: re-read from this date whatever the state says.
        lookback_hours: how far before the high-water mark each run re-reads.
    """
    client = helpers.make_client(base_url, client_id, client_secret, token_path)
    start = utc(initial_start)
    stop = utc(end_time) if end_time else None
    backfill = utc(backfill_from) if backfill_from else None
    cached: dict[str, list[dict[str, Any]]] = {}

    def projects_list() -> list[dict[str, Any]]:
        if "projects" not in cached:
            visible = [p for page in helpers.pages(client, settings.PROJECTS_PATH, "GET agents/me/projects")
                       for p in page]
            if project_ids:
                missing = sorted(set(project_ids) - {p["id"] for p in visible})
                if missing:
                    raise ValueError(f"Webmarketer: projects {missing} are not visible to this agent")
                visible = [p for p in visible if p["id"] in project_ids]
            cached["projects"] = visible
        return cached["projects"]

    def campaigns_list() -> list[dict[str, Any]]:
        if "campaigns" not in cached:
            found = []
            for project in projects_list():
                path = settings.INTEGRATIONS_PATH.format(project=project["id"])
                for integrations in helpers.pages(client, path, "GET integrations"):
                    for integration in integrations:
                        path = settings.CAMPAIGNS_PATH.format(project=project["id"],
                                                              integration=integration["wmktId"])
                        found += [c for page in helpers.pages(client, path, "GET campaigns") for c in page]
            cached["campaigns"] = found
        return cached["campaigns"]

    @dimension("projects", primary_key="id")
    def projects() -> Iterator[list[dict[str, Any]]]:
        yield projects_list()

    @dimension("event_types", primary_key="_id", max_table_nesting=0,
               columns={"archived_at": {"data_type": "timestamp", "nullable": True}})
    def event_types() -> Iterator[list[dict[str, Any]]]:
        for project in projects_list():
            path = settings.EVENT_TYPES_PATH.format(project=project["id"])
            yield from helpers.pages(client, path, "GET event-types")

    @dimension("campaigns", primary_key="id")
    def campaigns() -> Iterator[list[dict[str, Any]]]:
        yield campaigns_list()

    def incremental(name: str, cursor_field: str, read: Callable[[datetime, datetime], Iterator[list[dict[str, Any]]]],
                    **hints: Any) -> DltResource:
        return lookback_resource(name, primary_key="id", cursor_field=cursor_field, read=read, initial=start,
                                 lookback=timedelta(hours=lookback_hours), stop=stop, backfill=backfill, **hints)

    def per_project(path: str, endpoint: str, to_row: Callable[[dict[str, Any]], dict[str, Any]]
                    ) -> Callable[[datetime, datetime], Iterator[list[dict[str, Any]]]]:
        """A reader of a project-scoped list between `since` and `until`, for every project."""

        def read(begin: datetime, end: datetime) -> Iterator[list[dict[str, Any]]]:
            for project in projects_list():
                for page in helpers.pages(client, path.format(project=project["id"]), endpoint,
                                          since=helpers.rfc3339(begin), until=helpers.rfc3339(end)):
                    yield [to_row(item) for item in page]

        return read

    def read_outlays(begin: datetime, end: datetime) -> Iterator[list[dict[str, Any]]]:
        for campaign in campaigns_list():
            path = settings.OUTLAYS_PATH.format(project=campaign["projectId"], integration=campaign["integrationId"],
                                                campaign=campaign["id"])
            for page in helpers.pages(client, path, "GET outlays", since=helpers.rfc3339(begin),
                                      until=helpers.rfc3339(end)):
                yield [helpers.outlay_row(o) for o in page]

    return [
        *contract_resources(),
        projects,
        event_types,
        campaigns,
        incremental("events", "updated_at", per_project(settings.EVENTS_PATH, "GET events", helpers.event_row),
                    columns=settings.EVENT_COLUMNS,
                    nested_hints={"metrics": dlt.mark.make_nested_hints(columns=settings.METRIC_COLUMNS)}),
        incremental("trashed_events", "processing_date",
                    per_project(settings.TRASHED_EVENTS_PATH, "GET trashed-events", helpers.trashed_row),
                    columns=settings.TRASHED_EVENT_COLUMNS,
                    nested_hints={"errors": dlt.mark.make_nested_hints(columns=settings.TRASH_ERROR_COLUMNS)}),
        incremental("outlays", "updated_at", read_outlays, columns=settings.OUTLAY_COLUMNS),
    ]


SPEC = SourceSpec("webmarketer", webmarketer_source, ("client_id", "client_secret"))
