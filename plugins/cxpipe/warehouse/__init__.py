"""Opening the build warehouse (``cx.duckdb``) safely from Python tasks.

Preparing it for a dbt build (a full refresh) is :func:`cxpipe.warehouse.build.prepare_build`.
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

import duckdb

from cxpipe.warehouse.build import prepare_build, tables_expected_empty, write_empty_sources

__all__ = [
    "OPS_DB_NAME",
    "OPS_DDL",
    "connect_ops",
    "connect_read_only",
    "ops_db",
    "prepare_build",
    "release_inprocess_dbt",
    "tables_expected_empty",
    "write_empty_sources",
]


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


#: The operations log beside the warehouses: every gate run and every publication
#: attempt (published, blocked, failed, rolled back). It is never published to BI.
OPS_DB_NAME = "ops.duckdb"

OPS_DDL = (
    """
    create table if not exists gate_runs (
        gate_run_id varchar primary key,
        started_at timestamptz not null,
        finished_at timestamptz not null,
        passed boolean not null,
        checks_run integer not null,
        failed integer not null,
        warnings integer not null,
        failing json not null,
        checks json not null,
        data_docs varchar
    )
    """,
    """
    create table if not exists publication_log (
        attempt_at timestamptz not null,
        status varchar not null,
        publication_id bigint,
        target varchar not null,
        gate_run_id varchar,
        run_id varchar,
        row_counts json,
        reason varchar,
        skipped_tables json
    )
    """,
    # operations logs created before partial deployments (docs/decisions/0015-partial-deployments.md)
    "alter table publication_log add column if not exists skipped_tables json",
)


def ops_db(warehouse_dir: Path) -> Path:
    return warehouse_dir / OPS_DB_NAME


#: How long a writer of the operations log waits for another process to close it.
OPS_LOCK_WAIT_S = 120.0


def connect_ops(
    warehouse_dir: Path, *, read_only: bool = False, wait_s: float = OPS_LOCK_WAIT_S
) -> duckdb.DuckDBPyConnection:
    """A connection to the operations log, creating it (and its tables) on first use.

    DuckDB lets one process at a time open a file for writing. Every writer of the log (the
    gate, publication attempts, ingest audits, alerts) holds it for a moment only, so a
    writer that finds it locked waits, retrying for up to ``wait_s`` seconds, rather than
    failing and losing its record.
    """
    path = ops_db(warehouse_dir)
    if not path.exists():
        warehouse_dir.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait_s
    pause = 0.05
    while True:
        try:
            if read_only and path.exists():
                return duckdb.connect(str(path), read_only=True)
            con = duckdb.connect(str(path))
            break
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() >= deadline:
                raise
            time.sleep(pause * (0.5 + random.random()))
            pause = min(pause * 2, 2.0)
    for ddl in OPS_DDL:
        con.execute(ddl)
    return con
