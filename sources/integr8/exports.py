"""Integr8's Download Center as a plain job: create, poll with backoff and a timeout, download, read.

An export that ends in ERROR is created again (a bounded number of times); a signed URL that has
expired is requested again. The zip's one CSV is read straight into Arrow with the schema we asked for.
"""

from __future__ import annotations

import io
import logging
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv

from sources.common.polling import poll_until
from sources.integr8 import helpers, settings
from vendor_http import VendorClient, VendorError

log = logging.getLogger("sources.integr8")


@dataclass
class Export:
    """One requested export: what it covers, and the Download Center job currently producing it."""

    table: str
    integration_id: str
    start: datetime
    end: datetime
    job_id: str = ""
    attempts: int = 0


def export_tables(client: VendorClient, requests: list[Export], tz: str, fields: list[str], delimiter: str = ",",
                  timeout_s: float = settings.EXPORT_TIMEOUT_S) -> Iterator[pa.Table]:
    """Create every export first (they run in parallel on Integr8's side), then collect them in order."""
    for export in requests:
        _start(client, export, tz, fields, delimiter)
    for export in requests:
        yield _collect(client, export, tz, fields, delimiter, timeout_s)


def _start(client: VendorClient, export: Export, tz: str, fields: list[str], delimiter: str) -> None:
    export.attempts += 1
    export.job_id = _create(client, settings.TABLES[export.table].export, export.integration_id, export.start,
                            export.end, tz, fields, delimiter)["id"]


def _collect(client: VendorClient, export: Export, tz: str, fields: list[str], delimiter: str,
             timeout_s: float) -> pa.Table:
    endpoint = f"Download Center {settings.TABLES[export.table].export} export"
    while True:
        finished = _wait(client, export.job_id, endpoint, timeout_s)
        if finished["status"] == "COMPLETED":
            archive = _download(client, finished["artifact"]["name"], endpoint)
            return read_export(archive, export.table, fields, delimiter, tz, endpoint)
        log.warning("Integr8: export %s ended in ERROR (%s); attempt %d of %d", export.job_id,
                    finished.get("error") or "no reason given", export.attempts, settings.EXPORT_ATTEMPTS)
        if export.attempts >= settings.EXPORT_ATTEMPTS:
            raise VendorError(client.vendor, endpoint, f"export ended in ERROR {export.attempts} times")
        _start(client, export, tz, fields, delimiter)


def _create(client: VendorClient, export: str, integration_id: str, start: datetime, end: datetime, tz: str,
            fields: list[str], delimiter: str) -> dict[str, Any]:
    path = settings.EXPORT_PATH.format(export=export, integration_id=integration_id)
    params = {"start_time": helpers.wall_time(start, tz), "end_time": helpers.wall_time(end, tz), "timezone": tz,
              "fields": ",".join(fields), "delimiter": delimiter}
    if export != "postbacks":
        params["extra_parameters"] = ""
    response = client.request("POST", path, params=params, endpoint=f"POST {export}-export")
    job = client.json(response, f"POST {export}-export")
    if not isinstance(job, dict) or "id" not in job:
        raise VendorError(client.vendor, f"POST {export}-export", "response has no export id")
    return job


def _wait(client: VendorClient, export_id: str, endpoint: str, timeout_s: float) -> dict[str, Any]:
    def finished() -> dict[str, Any] | None:
        body = client.get_json(settings.EXPORT_STATUS_PATH.format(export_id=export_id),
                               endpoint="GET downloadcenter-exports")
        job = body.get("data", body) if isinstance(body, dict) else {}
        status = job.get("status")
        if status in ("COMPLETED", "ERROR"):
            return job
        if status not in ("PENDING", "IN_PROGRESS", "UNKNOWN"):
            raise VendorError(client.vendor, endpoint, f"export {export_id} in unexpected status {status!r}")
        return None

    return poll_until(finished, vendor=client.vendor, endpoint=endpoint, what=f"export {export_id}",
                      timeout_s=timeout_s, first_s=settings.EXPORT_POLL_FIRST_S, max_s=settings.EXPORT_POLL_MAX_S)


def _download(client: VendorClient, artifact: str, endpoint: str) -> bytes:
    for _ in range(settings.URL_ATTEMPTS):
        body = client.get_json(settings.ARTIFACT_URL_PATH, params={"artifact_name": artifact},
                               endpoint="GET downloadcenter-artifact-url")
        # The signed URL points at object storage: our API key must not travel with it.
        response = client.request("GET", body["url"], use_auth=False, ok=(200, 403), endpoint="GET signed artifact URL")
        if response.status_code == 200:
            return response.content
        log.warning("Integr8: signed URL for %s refused (%s); asking for a fresh one", artifact,
                    client.redact(response.text[:120]))
    raise VendorError(client.vendor, endpoint, f"signed URL refused {settings.URL_ATTEMPTS} times (expired?)", 403)


def read_export(archive: bytes, table: str, fields: list[str], delimiter: str, tz: str,
                endpoint: str = "Download Center export") -> pa.Table:
    """A Download Center zip as a typed Arrow table, times in UTC: the CSV streams from the zip straight into
    Arrow (never held whole as text beside the table)."""
    schema = helpers.raw_schema(table, fields)
    try:
        with zipfile.ZipFile(io.BytesIO(archive)) as zf:
            members = [n for n in zf.namelist() if n.lower().endswith(".csv")]
            if len(members) != 1:
                raise VendorError(settings.VENDOR, endpoint, f"expected one CSV in the zip, found {members}")
            with zf.open(members[0]) as csv:
                parsed = pacsv.read_csv(
                    csv,
                    parse_options=pacsv.ParseOptions(delimiter=delimiter),
                    convert_options=pacsv.ConvertOptions(column_types=schema, include_columns=fields,
                                                         strings_can_be_null=True, quoted_strings_can_be_null=False),
                )
    except zipfile.BadZipFile as exc:
        raise VendorError(settings.VENDOR, endpoint, f"artifact is not a zip: {exc}") from exc
    except KeyError as exc:
        raise VendorError(settings.VENDOR, endpoint, f"CSV does not match the requested fields: {exc}") from exc
    except pa.ArrowInvalid as exc:
        if "conversion error" in str(exc):
            raise helpers.csv_column_error(table, _header(archive, delimiter), exc, endpoint) from exc
        raise VendorError(settings.VENDOR, endpoint, f"CSV does not match the requested fields: {exc}") from exc
    return helpers.conform(table, parsed.select(fields).cast(schema), tz)


def _header(archive: bytes, delimiter: str) -> list[str]:
    """The column names of the export's CSV, as its first line gives them (their order may be the vendor's)."""
    with zipfile.ZipFile(io.BytesIO(archive)) as zf, zf.open(next(n for n in zf.namelist()
                                                               if n.lower().endswith(".csv"))) as csv:
        line = csv.readline().decode("utf-8-sig", errors="replace").strip()
    return [name.strip().strip('"') for name in line.split(delimiter)]
