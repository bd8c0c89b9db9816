"""The Spark kind's configuration and the views it registers, without a cluster: a Spark warehouse names its lake
and its metastore, hides the metastore's password, loads through dlt's filesystem destination, and its views read
what DuckDB's merge would keep (the cluster test in test_spark.py runs them)."""

from __future__ import annotations

import json
import shlex
import subprocess

import dlt
import pytest

from pipelines.transform import dbt_command, dbt_cwd, dbt_environment
from warehouse import Warehouse, WarehouseConfigError
from warehouse.spark_catalog import write_spark_defaults
from warehouse.spark_lake import current_view_sql, registration_sql

pytestmark = pytest.mark.fast


def test_a_spark_warehouse_needs_its_lake_and_metastore(tmp_path, monkeypatch):
    monkeypatch.delenv("PYSPARK_SUBMIT_ARGS", raising=False)
    with pytest.raises(WarehouseConfigError, match="name the lake's directory"):
        Warehouse("spark:", metastore="dbname=m").checked()
    with pytest.raises(WarehouseConfigError, match=r"\[warehouse\] metastore"):
        Warehouse(f"spark:{tmp_path}/lake").checked()
    lake = Warehouse(f"spark:{tmp_path}/lake", metastore="dbname=m host=db user=u password=secret").checked()
    assert lake.is_spark and not lake.is_lake and lake.raw_path == tmp_path / "lake" / "raw"
    assert "secret" not in lake.label() and "password=***" in lake.label()
    assert lake.file_problem() is None
    (tmp_path / "file").write_text("")
    assert "not a directory" in Warehouse(f"spark:{tmp_path}/file", metastore="dbname=m").file_problem()
    assert lake.destination().destination_type.endswith(".filesystem")
    conf = lake.spark_conf()
    assert conf["spark.master"] == "local[2]" and conf["spark.cores.max"] and \
        conf["spark.hadoop.javax.jdo.option.ConnectionURL"] == "jdbc:postgresql://db:5432/m"
    with pytest.raises(WarehouseConfigError, match="Spark SQL"):
        lake.connect()
    # dbt runs in its own Spark session, launched with the properties the runner writes, readable by its owner only
    # (as a properties file, not SPARK_CONF_DIR: a conf directory of its own would keep its driver's JVM from its
    # class-data archive, whose classpath starts without it)
    env = lake.dbt_env()
    assert env["DBT_TARGET"] == "spark" and "SPARK_CONF_DIR" not in env
    assert shlex.split(env["PYSPARK_SUBMIT_ARGS"]) == ["--properties-file", str(lake.spark_defaults_file()),
                                                       "pyspark-shell"]
    # what the user gives pyspark's launcher themselves still reaches dbt's session, after our properties
    monkeypatch.setenv("PYSPARK_SUBMIT_ARGS", "--jars '/opt/my jars/udf.jar' pyspark-shell")
    assert shlex.split(lake.dbt_env()["PYSPARK_SUBMIT_ARGS"]) == [
        "--properties-file", str(lake.spark_defaults_file()), "--jars", "/opt/my jars/udf.jar", "pyspark-shell"]
    written = write_spark_defaults(conf, lake.spark_defaults_file())
    assert written.stat().st_mode & 0o777 == 0o600
    assert "spark.hadoop.javax.jdo.option.ConnectionPassword secret\n" in written.read_text()


def test_spark_settings_go_on_top_of_ours_and_size_the_shuffles(tmp_path, monkeypatch):
    """`[warehouse.spark_settings]` reaches every application (a real cluster's cores, memory, driver address);
    shuffles get 4 partitions per core the application may use, not Spark's 200 (seconds a query on small data)."""
    monkeypatch.setenv("WAREHOUSE__METASTORE", "dbname=m")
    ours = Warehouse.configured(f"spark:{tmp_path}/lake").spark_conf()
    assert ours["spark.cores.max"] == "2" and ours["spark.sql.shuffle.partitions"] == "8"
    monkeypatch.setenv("WAREHOUSE__SPARK_SETTINGS", json.dumps(
        {"spark.cores.max": 16, "spark.driver.host": "runner.internal", "spark.kubernetes.namespace": "etl"}))
    theirs = Warehouse.configured(f"spark:{tmp_path}/lake").spark_conf()
    assert theirs["spark.cores.max"] == "16" and theirs["spark.sql.shuffle.partitions"] == "64"
    assert theirs["spark.driver.host"] == "runner.internal" and theirs["spark.kubernetes.namespace"] == "etl"
    monkeypatch.setenv("WAREHOUSE__SPARK_SETTINGS", json.dumps({"spark.sql.shuffle.partitions": "400"}))
    assert Warehouse.configured(f"spark:{tmp_path}/lake").spark_conf()["spark.sql.shuffle.partitions"] == "400"


def test_views_keep_completed_loads_the_newest_version_and_surviving_parents(tmp_path):
    @dlt.resource(primary_key="id", write_disposition="merge",
                  columns={"resolved": {"data_type": "bool", "hard_delete": True}})
    def orders():
        yield {"id": 1, "resolved": False, "lines": [{"sku": "a"}]}

    @dlt.resource(write_disposition="append")
    def clicks():
        yield {"id": 1}

    pipeline = dlt.pipeline("views", destination="duckdb", pipelines_dir=str(tmp_path))
    pipeline.extract([orders(), clicks()])
    pipeline.normalize()
    schema = pipeline.default_schema
    merged = current_view_sql(schema, "shop", "orders")
    assert "status = 0" in merged and "partition by `id` order by _dlt_load_id desc" in merged
    assert "not coalesce(`resolved`, false)" in merged
    assert current_view_sql(schema, "shop", "orders__lines") == (
        "select c.* from `shop`.`orders__lines__log` as c left semi join `shop`.`orders` as p "
        "on c._dlt_parent_id = p._dlt_id")
    appended = current_view_sql(schema, "shop", "clicks")
    assert "status = 0" in appended and "row_number" not in appended


def test_a_quoted_password_is_read_whole_and_never_shown(tmp_path):
    """libpq quotes a value with spaces: `password='a b'` is one password, hidden whole in the summary."""
    quoted = "dbname=m host=db user=u password='se cret' port=6543"
    lake = Warehouse(f"spark:{tmp_path}/lake", metastore=quoted).checked()
    assert lake.label().endswith("user=u password=*** port=6543)")
    metastore = lake.hive_metastore()
    assert (metastore.password, metastore.port) == ("se cret", 6543)
    ducklake = Warehouse(f"ducklake:postgres:{quoted}", name="lake", data_path=str(tmp_path)).checked()
    assert "user=u password=*** port=6543;" in ducklake.label()
    assert ducklake._dlt_catalog().password == "se cret"


def test_a_lake_path_with_a_quote_stays_one_path_in_spark_sql(tmp_path):
    import sqlglot

    pipeline = dlt.pipeline("paths", destination="duckdb", pipelines_dir=str(tmp_path))
    pipeline.extract(dlt.resource([{"id": 1}], name="clicks"))
    pipeline.normalize()
    raw = tmp_path / "it's a lake" / "raw"
    statements = list(registration_sql(pipeline.default_schema, "shop", raw, {"clicks"}))
    locations = [s.split(" location ", 1)[1] for s in statements if " location " in s]
    assert len(locations) == 2
    for literal in locations:  # the literal, read by a Spark SQL parser, is the path
        assert sqlglot.parse_one(f"select {literal}", read="spark").expressions[0].name in (
            f"{raw}/shop/clicks", f"{raw}/shop/_dlt_loads")


def test_the_spark_target_is_the_projects_adapter_and_the_python_models_write_parquet(tmp_path):
    """dbt finds the project's own adapter (transforms/plugins: dbt-spark plus Python models run in dbt's
    session) on the path the runner gives it, and parses the whole project for Spark, without a cluster."""
    lake = Warehouse(f"spark:{tmp_path}/lake", metastore="dbname=m host=db user=u").checked()
    done = subprocess.run(dbt_command("parse"), env=dbt_environment(lake), cwd=dbt_cwd(lake),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    manifest = json.loads((lake.dbt_dir() / "target" / "manifest.json").read_text())
    assert manifest["metadata"]["adapter_type"] == "spark_session"
    python_models = {n["name"]: n["config"] for n in manifest["nodes"].values() if n.get("language") == "python"}
    assert "attribution_shares" in python_models and len(python_models) == 4, sorted(python_models)
    assert {config["file_format"] for config in python_models.values()} == {"parquet"}  # Delta is unreadable here
    # staging is tables there: Spark computes a view again for every model and data test that reads it
    staging = {n["config"]["materialized"] for n in manifest["nodes"].values()
               if n["resource_type"] == "model" and n["fqn"][1:2] == ["staging"]}
    assert staging == {"table"}
    duck = Warehouse(str(tmp_path / "wh.duckdb"))  # and views on DuckDB, where reading one again is cheap
    done = subprocess.run(dbt_command("parse"), env=dbt_environment(duck), cwd=dbt_cwd(duck),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    manifest = json.loads((duck.dbt_dir() / "target" / "manifest.json").read_text())
    assert {n["config"]["materialized"] for n in manifest["nodes"].values()
            if n["resource_type"] == "model" and n["fqn"][1:2] == ["staging"]} == {"view"}
