"""Reading a Download Center archive: it streams in tables of bounded size (memory flat whatever the export's
size), checked whole before its first rows go on."""

from __future__ import annotations

import io
import zipfile

import pyarrow as pa
import pytest

from sources.integr8 import settings
from sources.integr8.exports import DamagedArchive, read_export

pytestmark = pytest.mark.fast

FIELDS = list(settings.FIELDS["clicks"])


def value(kind, i: int) -> str:
    if kind == settings.WALL_TIME:
        return f"2026-03-{1 + i % 28:02d} {i % 24:02d}:{i % 60:02d}:00"
    return {settings.FLOAT: f"{i * 0.25}", settings.INT: str(i), settings.BOOL: "true"}.get(kind, f"v{i}")


def archive(rows: int) -> bytes:
    lines = [",".join(FIELDS)] + [",".join(value(settings.FIELDS["clicks"][f], i) if f != "real_tx_id" else f"tx{i}"
                                            for f in FIELDS) for i in range(rows)]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("clicks.csv", "\n".join(lines) + "\n")
    return out.getvalue()


def test_an_export_streams_in_tables_of_a_bounded_size_equal_to_reading_it_whole():
    data = archive(20_000)
    tables = list(read_export(data, "clicks", FIELDS, ",", "UTC", block_bytes=64 * 2**10))
    whole = list(read_export(data, "clicks", FIELDS, ",", "UTC"))
    assert len(whole) == 1 and len(tables) > 10
    assert max(t.num_rows for t in tables) < 2_000
    assert pa.concat_tables(tables).equals(whole[0])


def test_a_damaged_archive_fails_before_any_of_its_rows_go_on():
    data = bytearray(archive(20_000))
    data[len(data) // 2] ^= 0xFF  # inside the deflate stream: found only by reading it through
    tables = read_export(bytes(data), "clicks", FIELDS, ",", "UTC", block_bytes=64 * 2**10)
    with pytest.raises(DamagedArchive, match="archive is damaged"):
        next(tables)


def test_an_export_without_rows_is_one_empty_table_of_its_columns():
    (table,) = read_export(archive(0), "clicks", FIELDS, ",", "UTC")
    assert table.num_rows == 0 and table.column_names == FIELDS
