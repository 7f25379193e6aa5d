"""Opening the build warehouse (``cx.duckdb``) safely from Python tasks."""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb


def release_inprocess_dbt() -> None:
    """Close the DuckDB database that an in-process dbt run left open.

    With Cosmos' ``DBT_RUNNER`` invocation, dbt runs inside the Airflow task's
    process. Under ``airflow dags test`` every task shares one process, and
    dbt-duckdb keeps its connection to the build file open after the run, so a
    later read-only connection to the same file is refused. Closing dbt-duckdb's
    environment here is harmless when dbt never ran in this process.
    """
    module = sys.modules.get("dbt.adapters.duckdb.connections")
    if module is None:
        return
    manager = module.DuckDBConnectionManager
    env = getattr(manager, "_ENV", None)
    if env is not None:
        env.close()
    manager.close_all_connections()


def connect_read_only(path: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to a DuckDB file, with a clear error when it is missing."""
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist: run the dbt build (transform DAG) first")
    release_inprocess_dbt()
    return duckdb.connect(str(path), read_only=True)
