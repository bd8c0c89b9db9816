"""Integr8's Download Center as a plain job: create, poll with backoff and a timeout, download, read.

An export that ends in ERROR is created again (a bounded number of times); a signed URL that has
expired is requested again; an archive that arrives damaged (a bad CRC, a broken deflate stream) is
downloaded once more. The zip's one CSV is read straight into Arrow with the schema we asked for, within
`Limits`: an archive that expands past them (a zip bomb, or an export far larger than configured for) fails
the vendor clearly before it can take the machine's memory.
"""

from __future__ import annotations

import contextlib
import io
import logging
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.csv as pacsv

from sources.common.drift import with_undocumented
from sources.common.polling import poll_until
from sources.common.prefetch import prefetched
from sources.integr8 import helpers, settings
from vendor_http import VendorClient, VendorError

log = logging.getLogger("sources.integr8")
# Bytes of CSV parsed at a time. Arrow's reader reads up to 32 blocks ahead of its parser on its IO thread (its
# background generator's queue, not an option of pyarrow's), so what a consumer slower than the download holds of
# the raw CSV is 32 blocks: 64 MB at 2 MB, 256 MB at 8 MB (~0.3 GiB of Integr8's extract at scale 1350). A block's
# size does not change the parse's speed; the tables handed on keep EXPORT_BATCH_ROWS rows whatever it is.
CSV_BLOCK = 2 * 2**20
# Parsed blocks held ready beyond the one being consumed (a few MB of Arrow).
PARSED_AHEAD = 4


@dataclass(frozen=True)
class Limits:
    """How large one export may be: its CSV uncompressed, and its rows (settings `max_export_mb`,
    `max_export_rows` of the source)."""

    max_bytes: int = settings.MAX_EXPORT_MB * 2**20
    max_rows: int = settings.MAX_EXPORT_ROWS


class DamagedArchive(VendorError):
    """The downloaded zip does not read (a bad CRC, a broken stream): fetched again once."""


class _Bounded(io.RawIOBase):
    """A stream that fails once more than `limit` bytes came through it (a zip's stated size can lie)."""

    def __init__(self, raw: io.BufferedIOBase, limit: int, error: Exception) -> None:
        self.raw, self.left, self.error = raw, limit, error

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        read = self.raw.readinto(buffer)
        self.left -= read
        if self.left < 0:
            raise self.error
        return read


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
                  timeout_s: float = settings.EXPORT_TIMEOUT_S, limits: Limits = Limits()) -> Iterator[pa.Table]:
    """Create every export first (they run in parallel on Integr8's side), then collect them in order."""
    for export in requests:
        _start(client, export, tz, fields, delimiter)
    for export in requests:
        yield from _collect(client, export, tz, fields, delimiter, timeout_s, limits)


def _start(client: VendorClient, export: Export, tz: str, fields: list[str], delimiter: str) -> None:
    export.attempts += 1
    export.job_id = _create(client, settings.TABLES[export.table].export, export.integration_id, export.start,
                            export.end, tz, fields, delimiter)["id"]


def _collect(client: VendorClient, export: Export, tz: str, fields: list[str], delimiter: str,
             timeout_s: float, limits: Limits) -> Iterator[pa.Table]:
    endpoint = f"Download Center {settings.TABLES[export.table].export} export"
    while True:
        finished = _wait(client, export.job_id, endpoint, timeout_s)
        if finished["status"] == "COMPLETED":
            passed = 0  # rows of this export gone on: a download again goes on after them (the artifact is fixed)
            for attempt in range(1, settings.DOWNLOAD_ATTEMPTS + 1):
                with _downloaded(client, finished["artifact"]["name"], endpoint) as archive:
                    try:
                        for table in after(read_export(archive, export.table, fields, delimiter, tz, endpoint,
                                                       limits), passed):
                            passed += table.num_rows
                            yield table
                        return
                    except DamagedArchive as damaged:
                        if attempt == settings.DOWNLOAD_ATTEMPTS:
                            raise
                        log.warning("Integr8: %s; downloading it again, to go on after its %d rows read", damaged,
                                    passed)
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


@contextlib.contextmanager
def _downloaded(client: VendorClient, artifact: str, endpoint: str) -> Iterator[BinaryIO]:
    """The archive in a temporary file, gone once the block ends: a quarter of a large account's clicks is
    hundreds of MB even zipped, and several tables download at once."""
    for _ in range(settings.URL_ATTEMPTS):
        body = client.get_json(settings.ARTIFACT_URL_PATH, params={"artifact_name": artifact},
                               endpoint="GET downloadcenter-artifact-url")
        with tempfile.TemporaryFile() as archive:
            # The signed URL points at object storage: our API key must not travel with it.
            response = client.request("GET", body["url"], use_auth=False, ok=(200, 403), into=archive,
                                      endpoint="GET signed artifact URL")
            if response.status_code == 200:
                archive.seek(0)
                yield archive  # type: ignore[misc]
                return
        log.warning("Integr8: signed URL for %s refused (%s); asking for a fresh one", artifact,
                    client.redact(response.text[:120]))
    raise VendorError(client.vendor, endpoint, f"signed URL refused {settings.URL_ATTEMPTS} times (expired?)", 403)


def read_export(archive: bytes | BinaryIO, table: str, fields: list[str], delimiter: str, tz: str,
                endpoint: str = "Download Center export", limits: Limits = Limits(),
                batch_rows: int = settings.EXPORT_BATCH_ROWS, block_bytes: int = CSV_BLOCK) -> Iterator[pa.Table]:
    """A Download Center zip as typed Arrow tables of `batch_rows` rows each (the last: the rest), times in UTC.

    Its CSV streams from the zip into Arrow `block_bytes` at a time, within `limits` (its stated size can lie): memory
    stays flat whatever the export's size (a quarter of a large account's clicks is millions of rows). A damaged
    archive raises `DamagedArchive` where the damage is found, after the tables before it (the download again
    goes on after them: `_collect`). A requested field the CSV lacks is left out, and columns the documentation
    does not have are named in each table's metadata (sources.common.drift)."""
    too_large = VendorError(settings.VENDOR, endpoint, f"the {table} export expands past {limits.max_bytes // 2**20} "
                            "MB; raise max_export_mb in [sources.integr8] if that is expected, or shorten "
                            "the ranges exported")
    with _opened(archive, table, endpoint) as (zf, member), _damage_named(table, endpoint):
        if member.file_size > limits.max_bytes:
            raise too_large
        with zf.open(member) as csv:
            header = _columns(csv.readline(), delimiter)
        fields = helpers.present(table, fields, header, endpoint)
        schema = helpers.raw_schema(table, fields)
        undocumented = set(header) - set(settings.FIELDS[table])
        rows = 0
        with zf.open(member) as csv, _damage_first(zf, member, limits.max_bytes):
            bounded = io.BufferedReader(_Bounded(csv, limits.max_bytes, too_large))  # type: ignore[arg-type]
            parsed = _parsed(bounded, table, header, fields, schema, delimiter, endpoint, block_bytes)
            # The next blocks are parsed and typed on a thread of their own while the caller writes this table
            # (dlt's Parquet): both outside the GIL, so the export's read overlaps its write.
            typed = prefetched(_conformed(parsed, table, fields, schema, tz, endpoint), PARSED_AHEAD)
            for conformed in _rechunked(typed, batch_rows):
                rows += conformed.num_rows
                if rows > limits.max_rows:
                    raise VendorError(settings.VENDOR, endpoint, f"the {table} export holds more than "
                                      f"{limits.max_rows:,} rows, past max_export_rows ({limits.max_rows:,}) "
                                      "in [sources.integr8]")
                yield with_undocumented(conformed, undocumented)
        if not rows:  # no rows: the columns still say what the export holds (drift)
            yield with_undocumented(helpers.conform(table, schema.empty_table(), tz, endpoint), undocumented)


def after(tables: Iterator[pa.Table], rows: int) -> Iterator[pa.Table]:
    """`tables` without their first `rows` rows."""
    for table in tables:
        if not rows:
            yield table  # an empty one too: the columns of an export without rows (drift)
        elif rows < table.num_rows:
            yield table.slice(rows)
            rows = 0
        else:
            rows -= table.num_rows


@contextlib.contextmanager
def _damage_named(table: str, endpoint: str) -> Iterator[None]:
    try:
        yield
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:  # a bad CRC, a broken stream, cut short
        raise DamagedArchive(settings.VENDOR, endpoint, f"the {table} archive is damaged: {exc}") from exc


@contextlib.contextmanager
def _damage_first(zf: zipfile.ZipFile, member: zipfile.ZipInfo, max_bytes: int) -> Iterator[None]:
    """A CSV that does not parse is first checked for damage: a flipped byte decodes (a stored member, or a
    deflate stream that goes on) into a row of another shape before the CRC at the member's end is read, and
    pyarrow's read-ahead can meet that row before the stream's own error. Damage is raised (the export is
    downloaded again); an intact archive's error stands, as does one past `max_bytes` (never expanded further)."""
    try:
        yield
    except VendorError as exc:
        with zf.open(member) as whole:  # read to its end: zipfile checks the CRC there
            bounded = _Bounded(whole, max_bytes, exc)  # type: ignore[arg-type]
            while bounded.read(CSV_BLOCK):
                pass
        raise


@contextlib.contextmanager
def _opened(archive: bytes | BinaryIO, table: str, endpoint: str) -> Iterator[tuple[zipfile.ZipFile, zipfile.ZipInfo]]:
    """The zip and its one CSV member."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(archive) if isinstance(archive, bytes) else archive)
    except (zipfile.BadZipFile, EOFError) as exc:  # not a zip at all, or cut short
        raise DamagedArchive(settings.VENDOR, endpoint, f"the {table} archive is damaged: {exc}") from exc
    with zf:
        members = [info for info in zf.infolist() if info.filename.lower().endswith(".csv")]
        if len(members) != 1:
            raise VendorError(settings.VENDOR, endpoint, f"expected one CSV in the zip, found "
                                                         f"{[m.filename for m in members]}")
        yield zf, members[0]


def _parsed(csv: Any, table: str, header: list[str], fields: list[str], schema: pa.Schema, delimiter: str,
            endpoint: str, block_bytes: int) -> Iterator[pa.RecordBatch]:
    """The CSV's rows, `block_bytes` of it at a time, as Arrow batches of the requested fields."""
    try:
        reader = pacsv.open_csv(
            csv, read_options=pacsv.ReadOptions(block_size=block_bytes),
            parse_options=pacsv.ParseOptions(delimiter=delimiter),
            convert_options=pacsv.ConvertOptions(column_types=schema, include_columns=fields,
                                                 strings_can_be_null=True, quoted_strings_can_be_null=False),
        )
        yield from reader
    except KeyError as exc:
        raise VendorError(settings.VENDOR, endpoint, f"CSV does not match the requested fields: {exc}") from exc
    except pa.ArrowInvalid as exc:
        if "conversion error" in str(exc):
            raise helpers.csv_column_error(table, header, exc, endpoint) from exc
        raise VendorError(settings.VENDOR, endpoint, f"CSV does not match the requested fields: {exc}") from exc


def _conformed(blocks: Iterator[pa.RecordBatch], table: str, fields: list[str], schema: pa.Schema, tz: str,
               endpoint: str) -> Iterator[pa.RecordBatch]:
    """Each parsed block as its requested fields, typed, with times in UTC (helpers.conform)."""
    for block in blocks:
        typed = pa.Table.from_batches([block]).select(fields).cast(schema)
        yield from helpers.conform(table, typed, tz, endpoint).to_batches()


def _rechunked(batches: Iterator[pa.RecordBatch], rows: int) -> Iterator[pa.Table]:
    """`batches` as tables of exactly `rows` rows, the last one of the rest."""
    held: list[pa.RecordBatch] = []
    count = 0
    for batch in batches:
        held.append(batch)
        count += batch.num_rows
        while count >= rows:
            buffered = pa.Table.from_batches(held)
            yield buffered.slice(0, rows)
            rest = buffered.slice(rows)
            held, count = rest.to_batches(), rest.num_rows
    if count:
        yield pa.Table.from_batches(held)


def _columns(line: bytes, delimiter: str) -> list[str]:
    """The column names of the export's CSV, as its first line gives them (their order may be the vendor's)."""
    return [name.strip().strip('"') for name in line.decode("utf-8-sig", errors="replace").strip().split(delimiter)]
