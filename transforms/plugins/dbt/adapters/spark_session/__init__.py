"""dbt-spark with Python models run in dbt's own Spark session.

dbt-spark submits Python models only to Databricks. This adapter is dbt-spark (its `session` connection method,
every macro and materialization: it declares `spark` as its dependency) plus one submission method, `session`:
the compiled model is executed on the driver in dbt's process, with the session dbt's SQL runs in, and writes
its table through dbt-spark's own `py_write_table`. Our Python models read small aggregates (paths, patterns,
reach) and return pandas frames, so the driver is the right place for them; a model that must scale returns a
Spark DataFrame instead and runs on the cluster like any other query.

transforms/profiles.yml selects it with `type: spark_session`; pipelines.transform puts transforms/plugins on
dbt's PYTHONPATH (dbt finds an adapter as the module dbt.adapters.<type>)."""

from dbt.adapters.base import AdapterPlugin
from dbt.adapters.spark_session.impl import SparkSessionAdapter, SparkSessionCredentials
from dbt.include import spark_session

Plugin = AdapterPlugin(
    adapter=SparkSessionAdapter,  # type: ignore[arg-type]
    credentials=SparkSessionCredentials,
    include_path=spark_session.PACKAGE_PATH,
    dependencies=["spark"],
)
