"""Write → audit → publish the reporting warehouse (DuckDB), all or nothing.

The reporting tables are copied from the audited build into a *new* DuckDB file
beside ``reporting.duckdb``, together with the history of ``publication_log``
and one new row for this publication. The new file is verified (every table
present, row counts equal to the build, no PII columns), checkpointed, closed and
renamed over the old one with :func:`os.replace` — atomic on POSIX. Readers that
hold the old file open keep reading the old version; new readers get the new one.
A failure at any step leaves the previous publication untouched.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

import cxpipe
from cxpipe.config import Settings
from cxpipe.reporting import MARTS_SCHEMA, PII_COLUMN_NAMES, REPORTING_TABLES
from cxpipe.warehouse import release_inprocess_dbt

log = logging.getLogger(__name__)

PUBLICATION_LOG_DDL = """
create table publication_log (
    publication_id bigint not null,
    published_at timestamptz not null,
    data_interval_start timestamptz,
    data_interval_end timestamptz,
    run_id varchar,
    gate_status varchar not null,
    gate_checks integer,
    row_counts json not null,
    code_version varchar not null
)
"""


@dataclass(frozen=True)
class Publication:
    publication_id: int
    path: Path
    row_counts: dict[str, int]


class PublishError(RuntimeError):
    """The new reporting file failed verification; the old one is still in place."""


def code_version() -> str:
    """cxpipe's version and, in a git checkout, the commit it runs."""
    if env := os.environ.get("CX_CODE_VERSION"):
        return env
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=Path(__file__).parent,
            capture_output=True,
            text=True,
            check=True,
            timeout=5,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        sha = "unknown"
    return f"{cxpipe.__version__}+{sha}"


def _verify(con: duckdb.DuckDBPyConnection, expected: dict[str, int]) -> None:
    for table, rows in expected.items():
        found = con.execute(f'select count(*) from main."{table}"').fetchone()
        if found is None or found[0] != rows:
            raise PublishError(f"{table}: {found} rows in the new reporting file, {rows} in the build")
        columns = {r[0] for r in con.execute(f'describe main."{table}"').fetchall()}
        if leaked := columns & PII_COLUMN_NAMES:
            raise PublishError(f"{table} has PII column(s) {sorted(leaked)}; reporting tables must not")


def publish(
    settings: Settings,
    *,
    gate_status: str,
    gate_checks: int | None = None,
    run_id: str | None = None,
    data_interval_start: datetime | None = None,
    data_interval_end: datetime | None = None,
    tables: tuple[str, ...] = REPORTING_TABLES,
) -> Publication:
    """Build a new reporting file from the build warehouse and swap it in."""
    target = settings.reporting_db
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    if not settings.build_db.exists():
        raise PublishError(f"{settings.build_db} does not exist: run the dbt build first")
    release_inprocess_dbt()
    for stale in target.parent.glob(f".{target.name}.*.tmp*"):  # left by a publish that was killed
        log.warning("removing %s, left by an interrupted publication", stale)
        stale.unlink()
    try:
        con = duckdb.connect(str(tmp))
        try:
            con.execute("attach ? as build (read_only)", [str(settings.build_db)])
            counts: dict[str, int] = {}
            for table in tables:
                con.execute(f'create table main."{table}" as select * from build.{MARTS_SCHEMA}."{table}"')
                row = con.execute(f'select count(*) from build.{MARTS_SCHEMA}."{table}"').fetchone()
                counts[table] = int(row[0]) if row else 0
            con.execute("detach build")

            con.execute(PUBLICATION_LOG_DDL)
            if target.exists():
                con.execute("attach ? as previous (read_only)", [str(target)])
                con.execute("insert into publication_log select * from previous.main.publication_log")
                con.execute("detach previous")
            last = con.execute("select coalesce(max(publication_id), 0) from publication_log").fetchone()
            publication_id = (int(last[0]) if last else 0) + 1
            con.execute(
                "insert into publication_log values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    publication_id,
                    datetime.now(UTC),
                    data_interval_start,
                    data_interval_end,
                    run_id,
                    gate_status,
                    gate_checks,
                    json.dumps(counts, sort_keys=True),
                    code_version(),
                ],
            )
            _verify(con, counts)
            con.execute("checkpoint")
        finally:
            con.close()
        with tmp.open("rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
        tmp.with_name(tmp.name + ".wal").unlink(missing_ok=True)
    log.info("published #%d to %s: %s", publication_id, target, counts)
    return Publication(publication_id, target, counts)


def published_tables(path: Path) -> dict[str, int]:
    """Row count of every table in a published reporting file."""
    with duckdb.connect(str(path), read_only=True) as con:
        names = [r[0] for r in con.execute("select table_name from information_schema.tables order by 1").fetchall()]
        counts = {}
        for name in names:
            row = con.execute(f'select count(*) from main."{name}"').fetchone()
            counts[name] = int(row[0]) if row else 0
        return counts
