"""The adapter, its credentials and connection manager (dbt-spark's, under the type `spark_session`) and the
`session` submission method for Python models."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dbt.adapters.base import PythonJobHelper, available
from dbt.adapters.spark import SparkAdapter, SparkCredentials
from dbt.adapters.spark.connections import SparkConnectionManager, SparkConnectionMethod
from dbt_common.exceptions import DbtRuntimeError

TYPE = "spark_session"


@dataclass
class SparkSessionCredentials(SparkCredentials):
    @property
    def type(self) -> str:
        return TYPE


class SparkSessionConnectionManager(SparkConnectionManager):
    TYPE = TYPE


class SessionPythonJobHelper(PythonJobHelper):
    """Executes a compiled Python model in the Spark session of dbt's process: dbt-spark's compiled code calls
    `model(dbt, spark)` and writes what it returns with `saveAsTable` (format: the model's `file_format`)."""

    def __init__(self, parsed_model: dict, credentials: SparkCredentials) -> None:
        if credentials.method != SparkConnectionMethod.SESSION:
            raise DbtRuntimeError(f"Python model {parsed_model['alias']}: the `session` submission method runs in "
                                  f"dbt's own Spark session; the profile's method is {credentials.method}")
        self.name = f"{parsed_model['schema']}.{parsed_model['alias']}"

    def submit(self, compiled_code: str) -> Any:
        from pyspark.sql import SparkSession  # the session dbt-spark's `session` method made (getOrCreate)

        spark = SparkSession.builder.getOrCreate()
        code = compile(compiled_code, f"<python model {self.name}>", "exec")
        exec(code, {"__name__": f"dbt_python_model.{self.name}", "spark": spark})  # dbt's compiled model
        return None


class SparkSessionAdapter(SparkAdapter):
    ConnectionManager = SparkSessionConnectionManager

    @classmethod
    def get_adapter_run_info(cls, config: Any) -> Any:
        # dbt names the adapter's module after the class ("sparksession"): report dbt-spark's, which this is
        return SparkAdapter.get_adapter_run_info.__func__(SparkAdapter, config)  # type: ignore[attr-defined]

    @property
    def default_python_submission_method(self) -> str:
        return "session"

    @property
    def python_submission_helpers(self) -> dict[str, type[PythonJobHelper]]:
        return {**super().python_submission_helpers, "session": SessionPythonJobHelper}

    @available
    def set_column_comments(self, relation: Any, comments: dict[str, str]) -> None:
        """Every column's comment of `relation` (a table of the session's catalog) in one change of the table's
        schema: what `alter table ... change column ... comment` does for one column (Spark's
        AlterTableChangeColumnCommand), once for all, so a mart's documented columns cost one update of the
        metastore's table instead of one each (89 of them took 19 s of a build's query threads here)."""
        from pyspark.sql import SparkSession  # the session dbt-spark's `session` method made (getOrCreate)

        spark = SparkSession.builder.getOrCreate()
        session, jvm = spark._jsparkSession, spark._jvm
        name = f"{relation.schema}.{relation.identifier}"
        table = session.sessionState().sqlParser().parseTableIdentifier(name)
        catalog = session.sessionState().catalog()
        fields = list(catalog.getTableMetadata(table).dataSchema().fields())
        by_name = {column.lower(): comment for column, comment in comments.items()}  # as Spark resolves names
        kept = [field.withComment(by_name[field.name().lower()]) if field.name().lower() in by_name else field
                for field in fields]
        schema = spark.sparkContext._gateway.new_array(jvm.org.apache.spark.sql.types.StructField, len(kept))
        for i, field in enumerate(kept):
            schema[i] = field
        catalog.alterTableDataSchema(table, jvm.org.apache.spark.sql.types.StructType(schema))
        spark.catalog.refreshTable(name)
