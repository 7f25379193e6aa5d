"""Write → audit → publish the reporting warehouse (DuckDB), all or nothing.

The reporting tables are copied from the audited build into a *new* DuckDB file
beside ``reporting.duckdb``; every table gets a ``publication_id`` column, and the
history of ``publication_log`` is carried over with one new row for this
publication. The new file is verified (every table present, row counts equal to
the build, one publication id, no PII columns), checkpointed, closed, fsynced and
renamed over the old one with :func:`os.replace` — atomic on POSIX. Readers that
hold the old file open keep reading the old version; new readers get the new one.
A failure or a kill at any step leaves the previous publication untouched, and
the next publication removes what an interrupted one left behind.

The last ``CX_KEEP_PUBLICATIONS`` (default 3) publications before the current one
are kept in ``warehouse/publications/`` for :func:`rollback`.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

import cxpipe
from cxpipe import postgres
from cxpipe.config import Settings
from cxpipe.contracts import MARTS_SCHEMA, PII_COLUMN_NAMES, PUBLICATION_ID_COLUMN, REPORTING_TABLES
from cxpipe.warehouse import connect_ops, release_inprocess_dbt

log = logging.getLogger(__name__)

KEEP_ENV = "CX_KEEP_PUBLICATIONS"
DEFAULT_KEEP = 3
#: Test hook: pause (sleep ``CX_PUBLISH_PAUSE_SECONDS``) at this step so a test can kill the process there.
PAUSE_AT_ENV = "CX_PUBLISH_PAUSE_AT"
PAUSE_SECONDS_ENV = "CX_PUBLISH_PAUSE_SECONDS"
ARCHIVE_PATTERN = re.compile(r"^reporting-(\d+)\.duckdb$")

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
    """The new publication failed verification; the old one is still in place."""


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


def keep_publications() -> int:
    value = os.environ.get(KEEP_ENV)
    if not value:
        return DEFAULT_KEEP
    if not value.isdigit():
        raise ValueError(f"{KEEP_ENV}={value!r} must be a whole number of old publications to keep, such as 3")
    return int(value)


def pause_point(step: str) -> None:
    """Sleep at ``step`` when ``CX_PUBLISH_PAUSE_AT`` names it (lets tests kill a publish mid-way)."""
    if os.environ.get(PAUSE_AT_ENV) == step:
        print(f"cxpipe publish paused at {step}", file=sys.stderr, flush=True)
        time.sleep(float(os.environ.get(PAUSE_SECONDS_ENV, "60")))


def archive_dir(settings: Settings) -> Path:
    return settings.warehouse_dir / "publications"


def archived(settings: Settings) -> dict[int, Path]:
    """Kept publications by id (the current one included)."""
    folder = archive_dir(settings)
    found = {}
    for path in folder.glob("reporting-*.duckdb") if folder.exists() else []:
        if match := ARCHIVE_PATTERN.match(path.name):
            found[int(match.group(1))] = path
    return dict(sorted(found.items()))


def current_publication_id(path: Path) -> int | None:
    """The publication id of a reporting file (None when there is none)."""
    if not path.exists():
        return None
    with duckdb.connect(str(path), read_only=True) as con:
        row = con.execute("select max(publication_id) from publication_log").fetchone()
    return int(row[0]) if row and row[0] is not None else None


def _next_publication_id(settings: Settings) -> int:
    """Larger than any id ever used, even by publications that were rolled back."""
    used = [current_publication_id(settings.reporting_db) or 0, *archived(settings)]
    with connect_ops(settings.warehouse_dir) as con:
        row = con.execute("select max(publication_id) from publication_log").fetchone()
    used.append(int(row[0]) if row and row[0] is not None else 0)
    return max(used) + 1


def _verify(con: duckdb.DuckDBPyConnection, expected: dict[str, int], publication_id: int) -> None:
    for table, rows in expected.items():
        column = PUBLICATION_ID_COLUMN
        found = con.execute(f'select count(*), count(distinct {column}), min({column}) from main."{table}"').fetchone()
        if found is None or found[0] != rows:
            raise PublishError(f"{table}: {found and found[0]} rows in the new reporting file, {rows} in the build")
        if rows and (found[1], found[2]) != (1, publication_id):
            raise PublishError(f"{table}: publication ids {found[1:]} in the new file, expected only {publication_id}")
        columns = {r[0] for r in con.execute(f'describe main."{table}"').fetchall()}
        if leaked := columns & PII_COLUMN_NAMES:
            raise PublishError(f"{table} has PII column(s) {sorted(leaked)}; reporting tables must not")


def _remove_leftovers(target: Path) -> None:
    for stale in target.parent.glob(f".{target.name}.*.tmp*"):  # left by a publish that was killed
        log.warning("removing %s, left by an interrupted publication", stale)
        stale.unlink()


def _replace_atomically(source: Path, target: Path) -> None:
    with source.open("rb") as fh:
        os.fsync(fh.fileno())
    os.replace(source, target)
    directory = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def _archive(settings: Settings, publication_id: int, keep: int) -> None:
    """Keep the new publication for rollback and drop those beyond the retention."""
    folder = archive_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    kept = folder / f"reporting-{publication_id}.duckdb"
    if not kept.exists():
        try:
            os.link(settings.reporting_db, kept)  # the published file is never written again
        except OSError:
            shutil.copy2(settings.reporting_db, kept)
    ids = list(archived(settings))
    for old in ids[: max(len(ids) - keep - 1, 0)]:
        log.info("dropping publication %d (beyond %s=%d)", old, KEEP_ENV, keep)
        (folder / f"reporting-{old}.duckdb").unlink()


def record_attempt(
    settings: Settings,
    status: str,
    *,
    target: str,
    publication_id: int | None = None,
    run_id: str | None = None,
    row_counts: dict[str, int] | None = None,
    reason: str | None = None,
) -> None:
    """Append a row to the operations ``publication_log`` (published, failed, rolled back, blocked)."""
    with connect_ops(settings.warehouse_dir) as con:
        con.execute(
            "insert into publication_log values (?, ?, ?, ?, null, ?, ?, ?)",
            [
                datetime.now(UTC),
                status,
                publication_id,
                target,
                run_id,
                json.dumps(row_counts, sort_keys=True) if row_counts is not None else None,
                reason,
            ],
        )


def _build_file(
    settings: Settings,
    tmp: Path,
    publication_id: int,
    tables: tuple[str, ...],
    log_row: list[Any],
) -> dict[str, int]:
    target = settings.reporting_db
    con = duckdb.connect(str(tmp))
    try:
        con.execute("attach ? as build (read_only)", [str(settings.build_db)])
        counts: dict[str, int] = {}
        for table in tables:
            con.execute(
                f'create table main."{table}" as select *, {publication_id}::bigint as {PUBLICATION_ID_COLUMN} '
                f'from build.{MARTS_SCHEMA}."{table}"'
            )
            row = con.execute(f'select count(*) from build.{MARTS_SCHEMA}."{table}"').fetchone()
            counts[table] = int(row[0]) if row else 0
        con.execute("detach build")
        pause_point("loaded")

        con.execute(PUBLICATION_LOG_DDL)
        if target.exists():
            con.execute("attach ? as previous (read_only)", [str(target)])
            con.execute("insert into publication_log select * from previous.main.publication_log")
            con.execute("detach previous")
        con.execute(
            "insert into publication_log values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [publication_id, *log_row[:6], json.dumps(counts, sort_keys=True), code_version()],
        )
        _verify(con, counts, publication_id)
        con.execute("checkpoint")
    finally:
        con.close()
    return counts


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
    """Build a new reporting file from the build warehouse, verify it and swap it in."""
    keep = keep_publications()  # invalid settings stop the publication before anything changes
    target = settings.reporting_db
    target.parent.mkdir(parents=True, exist_ok=True)
    if not settings.build_db.exists():
        raise PublishError(f"{settings.build_db} does not exist: run the dbt build first")
    release_inprocess_dbt()
    _remove_leftovers(target)
    publication_id = _next_publication_id(settings)
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    log_row = [datetime.now(UTC), data_interval_start, data_interval_end, run_id, gate_status, gate_checks]
    url = postgres.postgres_url()
    try:
        counts = _build_file(settings, tmp, publication_id, tables, log_row)
        pause_point("verified")
        if url:  # load PostgreSQL before swapping anything, so a failed load changes neither target
            postgres.stage(url, tmp, publication_id, tables)
        _replace_atomically(tmp, target)
    except BaseException as exc:
        record_attempt(settings, "failed", target="all", publication_id=publication_id, run_id=run_id, reason=str(exc))
        if isinstance(exc, postgres.PostgresPublishError):
            raise PublishError(f"{exc}; nothing was published") from exc
        raise
    finally:
        tmp.unlink(missing_ok=True)
        tmp.with_name(tmp.name + ".wal").unlink(missing_ok=True)
    _archive(settings, publication_id, keep)
    record_attempt(
        settings, "published", target="duckdb", publication_id=publication_id, run_id=run_id, row_counts=counts
    )
    if url:
        try:
            postgres.swap(url, publication_id, keep)
        except Exception as exc:
            record_attempt(
                settings, "failed", target="postgres", publication_id=publication_id, run_id=run_id, reason=str(exc)
            )
            raise PublishError(
                f"publication {publication_id} is in DuckDB but PostgreSQL still has the previous one: {exc}"
            ) from exc
        record_attempt(
            settings, "published", target="postgres", publication_id=publication_id, run_id=run_id, row_counts=counts
        )
    log.info("published #%d to %s: %s", publication_id, target, counts)
    return Publication(publication_id, target, counts)


def rollback(settings: Settings, publication_id: int | None = None) -> int:
    """Put a kept publication back in place (default: the one before the current one)."""
    keep = keep_publications()
    kept = archived(settings)
    current = current_publication_id(settings.reporting_db)
    if publication_id is None:
        older = [i for i in kept if current is None or i < current]
        if not older:
            raise PublishError(f"no kept publication older than the current one ({current}); see `cxpipe publications`")
        publication_id = older[-1]
    if publication_id not in kept:
        raise PublishError(
            f"publication {publication_id} is not kept (kept: {sorted(kept) or 'none'}); raise {KEEP_ENV} to keep more"
        )
    if publication_id == current:
        raise PublishError(f"publication {publication_id} is already the current one")
    url = postgres.postgres_url()
    if url and publication_id not in postgres.publications(url):
        raise PublishError(f"publication {publication_id} is not kept in PostgreSQL; nothing was rolled back")
    target = settings.reporting_db
    _remove_leftovers(target)
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    try:
        shutil.copy2(kept[publication_id], tmp)
        if current_publication_id(tmp) != publication_id:
            raise PublishError(f"{kept[publication_id]} does not hold publication {publication_id}")
        _replace_atomically(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    record_attempt(settings, "rolled_back", target="duckdb", publication_id=publication_id, reason=f"from {current}")
    if url:
        postgres.rollback(url, publication_id, keep)
        record_attempt(settings, "rolled_back", target="postgres", publication_id=publication_id)
    log.info("rolled back reporting from publication %s to %d", current, publication_id)
    return publication_id


def list_publications(settings: Settings) -> list[dict[str, Any]]:
    """Kept publications, newest first: id, when, row counts, whether it is the current one."""
    current = current_publication_id(settings.reporting_db)
    rows = []
    for publication_id, path in sorted(archived(settings).items(), reverse=True):
        with duckdb.connect(str(path), read_only=True) as con:
            row = con.execute(
                "select published_at, gate_status, row_counts from publication_log where publication_id = ?",
                [publication_id],
            ).fetchone()
        rows.append(
            {
                "publication_id": publication_id,
                "published_at": row[0] if row else None,
                "gate_status": row[1] if row else None,
                "row_counts": json.loads(row[2]) if row else {},
                "current": publication_id == current,
            }
        )
    return rows


def list_attempts(settings: Settings, limit: int = 20) -> list[dict[str, Any]]:
    """The newest rows of the operations ``publication_log``: what was published, or why not."""
    with connect_ops(settings.warehouse_dir) as con:
        cursor = con.execute(
            "select attempt_at, status, target, publication_id, run_id, reason from publication_log "
            "order by attempt_at desc limit ?",
            [limit],
        )
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def published_tables(path: Path) -> dict[str, int]:
    """Row count of every table in a published reporting file."""
    with duckdb.connect(str(path), read_only=True) as con:
        names = [r[0] for r in con.execute("select table_name from information_schema.tables order by 1").fetchall()]
        counts = {}
        for name in names:
            row = con.execute(f'select count(*) from main."{name}"').fetchone()
            counts[name] = int(row[0]) if row else 0
        return counts
