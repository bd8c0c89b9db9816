"""One DuckDB file, one dlt pipeline and dataset per vendor."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import dlt
from dlt.pipeline.pipeline import Pipeline

DEFAULT_WAREHOUSE = "warehouse.duckdb"
LOADER_FILE_FORMAT = "parquet"  # insert_values is ~10x slower on DuckDB


def pipelines_dir(warehouse: str | os.PathLike[str]) -> str:
    """dlt's working state lives beside the warehouse file, keyed on its whole name (as the lock is), so
    `w.duckdb` and `w.db` never share it."""
    path = Path(warehouse).resolve()
    return str(path.parent / f".{path.name}.dlt")


def make_pipeline(vendor: str, warehouse: str | os.PathLike[str] = DEFAULT_WAREHOUSE) -> Pipeline:
    return dlt.pipeline(
        pipeline_name=f"attribution_{vendor}",
        destination=dlt.destinations.duckdb(str(Path(warehouse).resolve())),
        dataset_name=vendor,
        pipelines_dir=pipelines_dir(warehouse),
        progress="log" if sys.stdout.isatty() else None,  # dlt writes progress to stdout
    )
