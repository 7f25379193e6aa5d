"""The Spark build's settings, dbt environment and Python-model submission (no Spark started here)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from cxpipe.settings import EngineSettings, Settings, SettingsError, load_settings
from cxpipe.warehouse import spark


def _settings(tmp_path: Path, **engine: str) -> Settings:
    base = load_settings({"CX_DATA_DIR": str(tmp_path / "data")})
    return dataclasses.replace(base, engine=EngineSettings(name="spark", **engine))


def test_engine_settings_default_to_duckdb_and_reject_an_unknown_engine() -> None:
    assert load_settings({}).engine.name == "duckdb"
    assert load_settings({"CX_ENGINE": "Spark"}).engine.name == "spark"
    with pytest.raises(SettingsError, match="CX_ENGINE"):
        load_settings({"CX_ENGINE": "snowflake"})
    with pytest.raises(SettingsError, match="CX_SPARK_CATALOG"):
        load_settings({"CX_SPARK_CATALOG": "glue"})


def test_spark_conf_runs_in_utc_with_few_partitions_and_its_folders_under_the_warehouse(tmp_path: Path) -> None:
    settings = _settings(tmp_path, spark_master="local[1]")
    conf = spark.spark_conf(settings, {"spark.sql.shuffle.partitions": "1"})
    assert conf["spark.master"] == "local[1]"
    assert conf["spark.sql.session.timeZone"] == "UTC"
    assert conf["spark.sql.shuffle.partitions"] == "1"  # extra settings win
    assert conf["spark.sql.catalogImplementation"] == "in-memory"
    assert conf["spark.sql.warehouse.dir"].startswith(str(settings.warehouse_dir))
    assert "spark.hadoop.javax.jdo.option.ConnectionURL" not in conf


def test_a_hive_catalog_keeps_its_metastore_beside_the_tables(tmp_path: Path) -> None:
    conf = spark.spark_conf(_settings(tmp_path, spark_catalog="hive"))
    assert conf["spark.sql.catalogImplementation"] == "hive"
    assert (
        str(tmp_path / "data" / "warehouse" / "spark" / "metastore_db")
        in conf["spark.hadoop.javax.jdo.option.ConnectionURL"]
    )


def test_dbt_runs_the_spark_target_with_the_duckdb_builds_environment(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    env = spark.dbt_env(settings)
    assert env["CX_DBT_TARGET"] == "spark" and env["CX_SPARK_METHOD"] == "session"
    assert env["CX_LAKE_DIR"] == str(settings.lake_dir)
    assert env["DBT_EXCLUDE_RESOURCE_TYPES"] == "unit_test"


def test_the_session_submission_method_is_added_once_beside_dbt_sparks_own() -> None:
    from dbt.adapters.spark.impl import SparkAdapter

    spark.register_session_submission()
    spark.register_session_submission()
    helpers = SparkAdapter.python_submission_helpers.fget(None)  # type: ignore[attr-defined]
    assert helpers["session"] is spark.SessionPythonJobHelper
    assert {"job_cluster", "all_purpose_cluster"} <= set(helpers)


def test_a_python_model_without_a_spark_session_fails_with_a_clear_error() -> None:
    from pyspark import SparkContext

    if SparkContext._active_spark_context is not None:
        pytest.skip("a SparkSession runs in this process")
    helper = spark.SessionPythonJobHelper({"alias": "int_complaint_texts_nlp"}, None)
    with pytest.raises(RuntimeError, match="needs a SparkSession"):
        helper.submit("raise SystemExit('must not run')")
