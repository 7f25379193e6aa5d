"""The DuckDB reporting file: build a new file, verify it, swap it in atomically; keep old ones for rollback.

The reporting tables are copied from the audited build into a *new* DuckDB file
beside ``reporting.duckdb``; every table gets a ``publication_id`` column, and the
history of ``publication_log`` is carried over with one new row for this
publication; the semantic layer's time spine (``SEMANTIC_LAYER_TABLES``) is copied as
built. The new file is verified (every table present, row counts equal to
the build, one publication id, no PII columns), checkpointed, closed, fsynced and
renamed over the old one with :func:`os.replace` — atomic on POSIX. Readers that
hold the old file open keep reading the old version; new readers get the new one.
A failure or a kill at any step leaves the previous publication untouched, and
the next publication removes what an interrupted one left behind.

The last ``CX_KEEP_PUBLICATIONS`` (default 3) publications before the current one
are kept in ``warehouse/publications/`` for rollback.

The steps are run in order by :func:`cxpipe.publish.pipeline.publish`; this module
knows nothing of PostgreSQL or of the orchestration.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

import cxpipe
from cxpipe.contracts import MARTS_SCHEMA, PII_COLUMN_NAMES, PUBLICATION_ID_COLUMN, SEMANTIC_LAYER_TABLES
from cxpipe.settings import Settings

log = logging.getLogger(__name__)

KEEP_ENV = "CX_KEEP_PUBLICATIONS"
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
    code_version varchar not null,
    skipped_tables json
)
"""


class PublishError(RuntimeError):
    """The new publication failed verification; the old one is still in place."""


def code_version(settings: Settings) -> str:
    """The version recorded with a publication: ``settings.publish.code_version``, else cxpipe's version and,
    in a git checkout, the commit it runs."""
    if settings.publish.code_version:
        return settings.publish.code_version
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


def new_file_path(target: Path) -> Path:
    """A fresh hidden temporary path beside ``target``, for a file that is being written."""
    return target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")


def remove_leftovers(target: Path) -> None:
    """Remove the temporary files a killed publication or rollback left beside ``target``."""
    for stale in target.parent.glob(f".{target.name}.*.tmp*"):  # left by a publish that was killed
        log.warning("removing %s, left by an interrupted publication", stale)
        stale.unlink()


def remove_new_file(tmp: Path) -> None:
    """Remove a temporary file from :func:`new_file_path` and its write-ahead log, if they are still there."""
    tmp.unlink(missing_ok=True)
    tmp.with_name(tmp.name + ".wal").unlink(missing_ok=True)


def verify(con: duckdb.DuckDBPyConnection, expected: dict[str, int], publication_id: int) -> None:
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


def build_file(
    settings: Settings,
    tmp: Path,
    publication_id: int,
    tables: tuple[str, ...],
    log_row: list[Any],
    on_step: Callable[[str], None] | None = None,
    allowed_empty: dict[str, str] | None = None,
) -> dict[str, int]:
    """Write the new reporting file ``tmp`` from the build and verify it; return the row counts.

    ``log_row`` is this publication's ``publication_log`` row from ``published_at`` to
    ``gate_checks``. ``on_step("loaded")`` is called once the tables are copied.
    ``allowed_empty``: tables the deployment's sources cannot feed, with the reason; those that
    are empty are published empty (columns kept) and listed in ``publication_log.skipped_tables``.
    """
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
        built = {
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_catalog = 'build' and table_schema = ?",
                [MARTS_SCHEMA],
            ).fetchall()
        }
        for table in SEMANTIC_LAYER_TABLES:  # the semantic layer's calendar, as built
            if table in built:
                con.execute(f'create table main."{table}" as select * from build.{MARTS_SCHEMA}."{table}"')
            else:
                log.warning("%s is not in the build: the semantic layer cannot answer cumulative metrics", table)
        con.execute("detach build")
        if on_step:
            on_step("loaded")

        con.execute(PUBLICATION_LOG_DDL)
        if target.exists():
            con.execute("attach ? as previous (read_only)", [str(target)])
            # by name: files published before a column was added leave it null
            con.execute("insert into publication_log by name select * from previous.main.publication_log")
            con.execute("detach previous")
        skipped = {t: reason for t, reason in (allowed_empty or {}).items() if counts.get(t) == 0}
        con.execute(
            "insert into publication_log values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                publication_id,
                *log_row[:6],
                json.dumps(counts, sort_keys=True),
                code_version(settings),
                json.dumps(skipped, sort_keys=True),
            ],
        )
        verify(con, counts, publication_id)
        con.execute("checkpoint")
    finally:
        con.close()
    return counts


def replace_atomically(source: Path, target: Path) -> None:
    """fsync ``source``, rename it over ``target`` (atomic on POSIX) and fsync the folder."""
    with source.open("rb") as fh:
        os.fsync(fh.fileno())
    os.replace(source, target)
    directory = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def archive(settings: Settings, publication_id: int, keep: int) -> None:
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


def restore(settings: Settings, publication_id: int, kept: Path) -> None:
    """Put the kept file of ``publication_id`` back as the reporting file, atomically."""
    target = settings.reporting_db
    remove_leftovers(target)
    tmp = new_file_path(target)
    try:
        shutil.copy2(kept, tmp)
        if current_publication_id(tmp) != publication_id:
            raise PublishError(f"{kept} does not hold publication {publication_id}")
        replace_atomically(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


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


def published_tables(path: Path) -> dict[str, int]:
    """Row count of every table in a published reporting file."""
    with duckdb.connect(str(path), read_only=True) as con:
        names = [r[0] for r in con.execute("select table_name from information_schema.tables order by 1").fetchall()]
        counts = {}
        for name in names:
            row = con.execute(f'select count(*) from main."{name}"').fetchone()
            counts[name] = int(row[0]) if row else 0
        return counts
