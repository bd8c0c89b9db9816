"""The Python models' inputs as pandas frames, and their outputs as what the engine writes, on either engine: in a
dbt Python model `dbt.ref(...)` is a DuckDB relation on DuckDB and a Spark DataFrame on Spark. Aggregates are
computed by the engine (a relation can be every conversion); only their small result reaches pandas. The
expressions are SQL both engines read alike (count(*) filter (where ...), any_value, ||, coalesce)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd


def is_spark(relation: Any) -> bool:
    return hasattr(relation, "toPandas")


def frame(relation: Any) -> pd.DataFrame:
    """The whole relation (a small one) as pandas, with the same dtypes from either engine."""
    if not is_spark(relation):
        return relation.df()
    from pyspark.sql import functions as F
    from pyspark.sql.types import DecimalType

    # DuckDB's .df() gives a decimal as float64; Spark's toPandas as Python Decimals (object)
    columns = [F.col(f"`{f.name}`").cast("double").alias(f.name) if isinstance(f.dataType, DecimalType)
               else F.col(f"`{f.name}`") for f in relation.schema.fields]
    return relation.select(*columns).toPandas()


def select(relation: Any, expressions: Sequence[str]) -> pd.DataFrame:
    """`select <expressions> from relation` as pandas."""
    if is_spark(relation):
        return frame(relation.selectExpr(*expressions))
    return relation.select(", ".join(expressions)).df()


def aggregate(relation: Any, aggregates: Sequence[str], by: Sequence[str] = ()) -> pd.DataFrame:
    """`select <by>, <aggregates> from relation group by <by>` as pandas, in the order of the `by` keys (a fit
    over the result is then the same whatever order the engine produced its rows in)."""
    if is_spark(relation):
        from pyspark.sql import functions as F

        grouped = relation.groupBy(*by) if by else relation.groupBy()
        found = frame(grouped.agg(*(F.expr(a) for a in aggregates)))
    else:
        found = relation.aggregate(", ".join([*by, *aggregates]), ", ".join(by)).df()
    return found.sort_values(list(by), ignore_index=True) if by else found


def table(session: Any, result: pd.DataFrame) -> Any:
    """A model's pandas result as what its engine writes: the frame itself for DuckDB; a Spark DataFrame made
    through Arrow for Spark (dbt-spark would otherwise go through pandas-on-Spark)."""
    if not hasattr(session, "createDataFrame"):
        return result
    import pyarrow as pa

    return session.createDataFrame(pa.Table.from_pandas(result, preserve_index=False))


def conversion_counts(conversions: Any) -> tuple[int, int]:
    """Of de-duplicated conversions (int_conversions__deduplicated): how many, and how many a site-wide tracker
    saw whole (what conversion_model.reach scales its reports by)."""
    counts = aggregate(conversions, ["count(*) as total", "count(*) filter (where seen_whole) as seen_whole"])
    return int(counts.at[0, "total"]), int(counts.at[0, "seen_whole"])
