"""Reading a Download Center archive: it streams in tables of a fixed number of rows (memory flat whatever the
export's size); one damaged midway is read again after the rows that went on."""

from __future__ import annotations

import io
import time
import tracemalloc
import zipfile

import pyarrow as pa
import pytest

from sources.integr8 import settings
from sources.integr8.exports import DamagedArchive, after, read_export
from sources.integr8.helpers import rows_to_arrow
from vendor_http import VendorError

pytestmark = pytest.mark.fast

FIELDS = list(settings.FIELDS["clicks"])


def value(kind, i: int) -> str:
    if kind == settings.WALL_TIME:
        return f"2026-03-{1 + i % 28:02d} {i % 24:02d}:{i % 60:02d}:00"
    return {settings.FLOAT: f"{i * 0.25}", settings.INT: str(i), settings.BOOL: "true"}.get(kind, f"v{i}")


def archive(rows: int, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    lines = [",".join(FIELDS)] + [",".join(value(settings.FIELDS["clicks"][f], i) if f != "real_tx_id" else f"tx{i}"
                                            for f in FIELDS) for i in range(rows)]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as zf:
        zf.writestr("clicks.csv", "\n".join(lines) + "\n")
    return out.getvalue()


def test_an_export_streams_in_tables_of_a_bounded_size_equal_to_reading_it_whole():
    data = archive(20_000)
    tables = list(read_export(data, "clicks", FIELDS, ",", "UTC", batch_rows=1_500))
    whole = list(read_export(data, "clicks", FIELDS, ",", "UTC"))
    assert len(whole) == 1 and [t.num_rows for t in tables] == [1_500] * 13 + [500]
    assert pa.concat_tables(tables).equals(whole[0])


def assert_damage_found_midway_and_read_on(damaged: bytes, data: bytes) -> None:
    """Reading `damaged` raises DamagedArchive after some of its tables; the intact `data` read after their rows
    gives the rest: together, the export read whole."""
    read: list[pa.Table] = []
    with pytest.raises(DamagedArchive, match="archive is damaged"):
        read.extend(read_export(damaged, "clicks", FIELDS, ",", "UTC", batch_rows=1_500, block_bytes=2**16))
    passed = sum(t.num_rows for t in read)
    assert 0 < passed < 20_000
    again = list(after(read_export(data, "clicks", FIELDS, ",", "UTC", batch_rows=1_000), passed))
    assert pa.concat_tables(read + again).equals(pa.concat_tables(read_export(data, "clicks", FIELDS, ",", "UTC")))


def test_an_archive_damaged_midway_goes_on_after_the_rows_read_when_downloaded_again():
    data = archive(20_000)
    damaged = bytearray(data)
    damaged[len(damaged) * 3 // 4] ^= 0xFF  # inside the deflate stream: found only by reading that far
    assert_damage_found_midway_and_read_on(bytes(damaged), data)


def test_damage_that_still_reads_as_text_is_damage_not_a_csv_of_another_shape():
    """A byte flipped in a stored (uncompressed) member, or in a deflate stream that goes on decoding, reaches
    the CSV parser as a row of another shape before the CRC is checked at the member's end: the archive is
    damaged (downloaded again), not an export whose columns changed (seen as a flaky test: pyarrow's read-ahead
    met the garbage before the stream's error)."""
    data = archive(20_000, zipfile.ZIP_STORED)
    damaged = bytearray(data)
    comma = data.index(b",", len(data) // 4)  # far from the end, where the CRC is checked
    damaged[comma] = ord(";")  # a row one column short
    assert_damage_found_midway_and_read_on(bytes(damaged), data)


def test_an_export_without_rows_is_one_empty_table_of_its_columns_read_again_or_not():
    (table,) = read_export(archive(0), "clicks", FIELDS, ",", "UTC")
    assert table.num_rows == 0 and table.column_names == FIELDS
    assert list(after(read_export(archive(0), "clicks", FIELDS, ",", "UTC"), 0)) == [table]


def test_a_slow_reader_of_a_large_export_holds_a_bounded_part_of_its_csv():
    """Arrow reads up to 32 blocks of CSV ahead of the parser on its IO thread: a consumer slower than the
    download (dlt writing Parquet, the change filter) had 32 x 8 MB of raw CSV held at once, ~0.3 GiB of a
    scale-1350 extract's peak. A block is what bounds it."""
    row = ",".join(value(settings.FIELDS["clicks"][f], 7) for f in FIELDS if f != "real_tx_id")
    csv = ",".join(["real_tx_id"] + [f for f in FIELDS if f != "real_tx_id"]) + "\n"
    csv += "\n".join(f"tx{i},{row}" for i in range(1_500_000)) + "\n"
    assert len(csv) > 150 * 2**20
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.writestr("clicks.csv", csv)
    del csv
    data = out.getvalue()
    rows = 0
    tracemalloc.start()
    try:
        for table in read_export(data, "clicks", FIELDS, ",", "UTC"):
            if not rows:
                time.sleep(1.0)  # a consumer slower than the reader: its read-ahead fills
            rows += table.num_rows
        held = tracemalloc.get_traced_memory()[1]  # the CSV read from the zip in Python, not yet parsed
    finally:
        tracemalloc.stop()
    assert rows == 1_500_000
    assert held < 96 * 2**20, f"{held / 2**20:.0f} MB of the CSV held at once"


def with_click_time(data: bytes, record: str, when: str) -> bytes:
    """`data` with one record's click time replaced."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        lines = zf.read("clicks.csv").decode().splitlines()
    column = FIELDS.index("click_time")
    for i, line in enumerate(lines):
        cells = line.split(",")
        if cells[0] == record:
            cells[column] = when
            lines[i] = ",".join(cells)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("clicks.csv", "\n".join(lines) + "\n")
    return out.getvalue()


@pytest.mark.parametrize("when", ["2026-09-31 25:00:00", "last Tuesday"])
def test_a_time_that_is_no_time_fails_the_export_naming_column_record_and_value(when):
    """It raised Arrow's own error, naming neither the vendor nor the record, from inside the extract."""
    data = with_click_time(archive(5_000), "tx4321", when)
    with pytest.raises(VendorError) as failure:
        list(read_export(data, "clicks", FIELDS, ",", "UTC", endpoint="POST downloadcenter/export"))
    message = str(failure.value)
    assert "Integr8" in message and "POST downloadcenter/export" in message, message
    assert "column clicks.click_time of record 'tx4321'" in message and repr(when) in message, message


def test_a_report_row_whose_time_is_no_time_fails_naming_column_record_and_value():
    as_json = {settings.FLOAT: float, settings.INT: int, settings.BOOL: lambda text: text == "true"}
    rows = [{f: f"tx{i}" if f == "real_tx_id" else as_json.get(kind, str)(value(kind, i))
             for f, kind in settings.FIELDS["clicks"].items()} for i in range(3)]
    rows[1]["click_time"] = "last Tuesday"
    with pytest.raises(VendorError) as failure:
        rows_to_arrow("clicks", rows, FIELDS, "UTC", endpoint="GET reports/v2/click-table")
    message = str(failure.value)
    assert "GET reports/v2/click-table" in message, message
    assert "column clicks.click_time of record 'tx1'" in message and "'last Tuesday'" in message, message
