"""The dbt build on Apache Spark (``CX_ENGINE=spark``), and its reporting tables handed to the gate and publish.

One process runs the whole build: :func:`spark_session` starts (or joins) a SparkSession, dbt runs
in-process (``dbtRunner``, target ``spark`` of ``dbt_project/profiles.yml``, method ``session``), so
dbt's SQL models, its seeds and snapshot and the Python model ``int_complaint_texts_nlp`` share that
session; the Python model runs its text analysis where the data is, in Spark's Python workers
(:mod:`cxpipe.complaints.on_spark`). dbt-spark submits Python models to Databricks clusters only:
:func:`register_session_submission` adds the submission method ``session`` that runs the model's code
in this process's session.

:func:`export_marts` then writes every table of the ``marts`` schema into the DuckDB build file
(``cx.duckdb``, schema ``marts``), which is what the gate and publish read: the same audit and the
same swap as after a DuckDB build (docs/spark.md).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from cxpipe.settings import Settings

log = logging.getLogger(__name__)

#: The schema of the reporting tables in the Spark catalog and in the DuckDB build file.
MARTS_SCHEMA = "marts"

#: Spark settings of a build. Local mode on a developer machine or in CI: few shuffle partitions
#: (the default 200 makes every small join and aggregate 200 tasks), no UI, UTC as the session time
#: zone (calendar dates of timestamps are UTC dates, as in the DuckDB build), the Parquet lake's
#: partitions read with their columns merged (a column added by a later landing date).
BASE_CONF: dict[str, str] = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.shuffle.partitions": "2",
    "spark.default.parallelism": "2",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.parquet.mergeSchema": "true",
    "spark.sql.adaptive.enabled": "true",
    "spark.sql.ansi.enabled": "false",
    "spark.sql.sources.partitionOverwriteMode": "dynamic",
    "spark.driver.extraJavaOptions": "-Duser.timezone=UTC",
    "spark.executor.extraJavaOptions": "-Duser.timezone=UTC",
}


def spark_conf(settings: Settings, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The Spark settings of a build of ``settings``: :data:`BASE_CONF`, the master, the warehouse folder
    and catalog, then ``extra``."""
    engine = settings.engine
    warehouse = settings.warehouse_dir / "spark"
    conf = {
        **BASE_CONF,
        "spark.master": engine.spark_master,
        "spark.app.name": "cxpipe-dbt",
        "spark.sql.warehouse.dir": str(warehouse / "tables"),
        "spark.sql.catalogImplementation": engine.spark_catalog,
        "spark.driver.memory": engine.spark_driver_memory,
        "spark.local.dir": str(warehouse / "tmp"),
    }
    if engine.spark_catalog == "hive":
        # an embedded Derby metastore beside the tables: one build process at a time (the transform DAG runs one)
        conf["spark.hadoop.javax.jdo.option.ConnectionURL"] = (
            f"jdbc:derby:;databaseName={warehouse / 'metastore_db'};create=true"
        )
    conf.update(extra or {})
    return conf


def spark_session(settings: Settings, extra: Mapping[str, str] | None = None) -> Any:
    """The SparkSession of a build (started once per process; a second call returns the same session).

    Spark's Python workers run this interpreter, so they import cxpipe and its NLP libraries.
    """
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    builder = SparkSession.builder
    for key, value in spark_conf(settings, extra).items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def stop_session() -> None:
    """Stop this process's SparkSession, if one runs, and wait for its JVM to exit (so that the JVM's
    CPU time counts in this process's ``getrusage(RUSAGE_CHILDREN)``, as the benchmark measures it)."""
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    gateway = SparkContext._gateway
    process = getattr(gateway, "proc", None)
    active = SparkSession.getActiveSession()
    if active is not None:
        active.stop()
    elif SparkContext._active_spark_context is not None:
        SparkContext._active_spark_context.stop()
    if gateway is not None:
        gateway.shutdown()
        SparkContext._gateway = None
        SparkContext._jvm = None
    if process is not None:
        if process.stdin is not None:
            process.stdin.close()  # the JVM exits when its parent's pipe closes
        process.wait(timeout=120)


class SessionPythonJobHelper:
    """dbt-spark submission method ``session``: a Python model's compiled code run in this process's
    SparkSession (dbt-spark's own methods submit it to a Databricks cluster)."""

    def __init__(self, parsed_model: dict[str, Any], credentials: Any) -> None:
        self.parsed_model = parsed_model

    def submit(self, compiled_code: str) -> None:
        from pyspark import SparkContext
        from pyspark.sql import SparkSession

        # dbt runs the model in a thread of its own, where no session is active: the process's session
        if SparkContext._active_spark_context is None:
            raise RuntimeError("submission method 'session' needs a SparkSession in this process (cxpipe starts it)")
        session = SparkSession.builder.getOrCreate()
        name = self.parsed_model.get("alias") or self.parsed_model.get("name")
        exec(compile(compiled_code, f"<dbt python model {name}>", "exec"), {"spark": session, "__name__": "__dbt__"})


def register_session_submission() -> None:
    """Add :class:`SessionPythonJobHelper` to dbt-spark's submission methods, as ``session``."""
    from dbt.adapters.spark.impl import SparkAdapter

    helpers: Any = SparkAdapter.__dict__["python_submission_helpers"]  # the property itself
    if getattr(helpers.fget, "_cxpipe", False):
        return
    original = helpers.fget

    def with_session(self: Any) -> dict[str, Any]:
        return {**original(self), "session": SessionPythonJobHelper}

    with_session._cxpipe = True  # type: ignore[attr-defined]
    SparkAdapter.python_submission_helpers = property(with_session)  # type: ignore[method-assign,assignment]


@dataclass(frozen=True)
class SparkBuild:
    """What a dbt build on Spark did."""

    success: bool
    target_dir: Path
    failures: tuple[str, ...]


def dbt_env(settings: Settings) -> dict[str, str]:
    """The environment of a dbt build on Spark: what a DuckDB build gets, with the target ``spark``."""
    return {**settings.dbt_env(), "CX_DBT_TARGET": "spark", "CX_SPARK_METHOD": "session"}


@contextmanager
def _environ(values: Mapping[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def run_dbt(
    settings: Settings,
    args: Sequence[str] = ("build",),
    target_dir: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> SparkBuild:
    """``dbt <args>`` on Spark in this process, in the build's SparkSession; failures by node.

    dbt's artifacts go to ``target_dir`` (default ``<CX_DATA_DIR>/dbt_target``, where the gate looks
    outside a DAG run, as after ``cxpipe``'s DuckDB builds)."""
    from dbt.cli.main import dbtRunner

    spark_session(settings)
    register_session_submission()
    target = target_dir or settings.data_dir / "dbt_target"
    project = settings.dbt_project_dir
    cli = [
        *args,
        "--project-dir",
        str(project),
        "--profiles-dir",
        str(project),
        "--target-path",
        str(target),
        "--log-path",
        str(settings.data_dir / "dbt_logs"),
    ]
    with _environ({**dbt_env(settings), **(env or {})}):
        result = dbtRunner().invoke(cli)
    failures: list[str] = []
    if result.exception is not None:
        failures.append(f"dbt: {result.exception}")
    for node in getattr(result.result, "results", None) or []:
        if str(node.status) in ("error", "fail", "runtime error"):
            failures.append(f"{node.node.unique_id}: {node.status}: {node.message}")
    return SparkBuild(success=bool(result.success), target_dir=target, failures=tuple(failures))


def marts_tables(session: Any, schema: str = MARTS_SCHEMA) -> list[str]:
    """The tables of ``schema`` in the Spark catalog (the reporting tables and the time spine)."""
    return sorted(t.name for t in session.catalog.listTables(schema) if not t.isTemporary)


def export_marts(settings: Settings, schema: str = MARTS_SCHEMA, build_db: Path | None = None) -> list[str]:
    """Every table of ``schema`` on Spark written into the DuckDB build file (``cx.duckdb``), same schema
    and names, replacing what was there: what the gate and publish read after a build. Returns the names.

    Tables go through Arrow (Spark's ``toArrow``), so types map column by column: Spark's TIMESTAMP
    (with local time zone) is DuckDB's TIMESTAMP WITH TIME ZONE, STRING is VARCHAR, INT INTEGER.
    """
    session = spark_session(settings)
    target = build_db or settings.build_db
    target.parent.mkdir(parents=True, exist_ok=True)
    names = marts_tables(session, schema)
    with duckdb.connect(str(target)) as con:
        con.execute(f"create schema if not exists {schema}")
        for name in names:
            exported = session.table(f"{schema}.{name}").toArrow()
            con.register("exported", exported)
            con.execute(f"create or replace table {schema}.{name} as select * from exported")
            con.unregister("exported")
        con.execute("checkpoint")
    log.info("exported %d tables of %s from Spark into %s", len(names), schema, target)
    return names


def build(settings: Settings, args: Sequence[str] = (), export: bool = True) -> SparkBuild:
    """A whole build on Spark: the empty source files (as for DuckDB), the lake registered as dbt's
    sources, ``dbt build <args>``, then (``export``) the reporting tables into the DuckDB build file."""
    from cxpipe.warehouse.build import write_empty_sources

    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    write_empty_sources(settings)
    registered = run_dbt(settings, ("run-operation", "register_lake_sources"))
    if not registered.success:
        return registered
    built = run_dbt(settings, ("build", *args))
    if built.success and export:
        export_marts(settings)
    return built
