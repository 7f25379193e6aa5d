"""Publish the reporting tables to PostgreSQL: COPY into a fresh schema, verify, swap in one transaction.

Used by :func:`cxpipe.publish.pipeline.publish` when ``CX_REPORTING_POSTGRES_URL`` is set:

1. ``stage``: the verified new DuckDB reporting file is bulk-loaded with COPY
   (psycopg 3) into a fresh schema ``reporting_new_<id>`` and committed; row
   counts are checked against the file. BI cannot see this schema.
2. ``swap``: in one transaction, with every old reporting table locked, the
   schema ``reporting`` becomes ``reporting_prev_<old id>`` and the fresh schema
   becomes ``reporting``; the read-only BI role gets USAGE and SELECT on it and
   loses them on the old one. Readers see the old or the new publication, never
   a missing or half-loaded table.
3. The ``CX_KEEP_PUBLICATIONS`` newest ``reporting_prev_*`` schemas are kept for
   :func:`rollback`; older ones and any ``reporting_new_*`` left by an
   interrupted publish are dropped.

The read-only role ``cx_bi`` (password from ``CX_BI_PASSWORD``) is created or
updated on every publication: it may connect and read schema ``reporting``,
nothing else, and its sessions are read-only.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import psycopg
from psycopg import sql

log = logging.getLogger(__name__)

URL_ENV = "CX_REPORTING_POSTGRES_URL"
BI_PASSWORD_ENV = "CX_BI_PASSWORD"
BI_ROLE = "cx_bi"
SCHEMA = "reporting"
NEW_PREFIX = "reporting_new_"
PREV_PREFIX = "reporting_prev_"
#: Serialises publishers on one database (session advisory lock, released if the process dies).
LOCK_KEY = 0x63787069
#: How long the swap may keep trying to lock the current tables away from readers.
SWAP_WAIT_SECONDS = 120.0
#: Each attempt gives up waiting for a lock after this long. It is shorter than PostgreSQL's
#: deadlock_timeout (1 s by default), so when a BI query that reads several tables and the
#: swap wait for each other, the swap backs off first and the reader's query completes.
SWAP_LOCK_TIMEOUT = "500ms"

TYPES = {
    "VARCHAR": "text",
    "BIGINT": "bigint",
    "INTEGER": "integer",
    "SMALLINT": "smallint",
    "TINYINT": "smallint",
    "HUGEINT": "numeric",
    "UBIGINT": "numeric",
    "DOUBLE": "double precision",
    "FLOAT": "real",
    "BOOLEAN": "boolean",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "JSON": "jsonb",
    "UUID": "uuid",
}


class PostgresPublishError(RuntimeError):
    """The PostgreSQL publication failed; ``reporting`` still holds the previous one."""


def _pg_type(duck_type: str) -> str:
    if duck_type in TYPES:
        return TYPES[duck_type]
    if match := re.fullmatch(r"DECIMAL\((\d+),\s*(\d+)\)", duck_type):
        return f"numeric({match.group(1)},{match.group(2)})"
    return "text"


def connect(url: str) -> psycopg.Connection[Any]:
    try:
        return psycopg.connect(url, connect_timeout=10)
    except psycopg.OperationalError as exc:
        raise PostgresPublishError(f"cannot connect to the PostgreSQL reporting target ({URL_ENV}): {exc}") from exc


def _schemas(con: psycopg.Connection[Any], prefix: str) -> list[str]:
    rows = con.execute(
        "select nspname from pg_namespace where nspname like %s order by nspname", [prefix.replace("_", r"\_") + "%"]
    ).fetchall()
    return [r[0] for r in rows]


def current_publication_id(con: psycopg.Connection[Any], schema: str = SCHEMA) -> int | None:
    exists = con.execute("select to_regclass(%s)", [f"{schema}.publication_log"]).fetchone()
    if not exists or exists[0] is None:
        return None
    row = con.execute(
        sql.SQL("select max(publication_id) from {}.publication_log").format(sql.Identifier(schema))
    ).fetchone()
    return int(row[0]) if row and row[0] is not None else None


def ensure_bi_role(con: psycopg.Connection[Any], password: str | None) -> None:
    """Create or update the read-only BI role: login (with ``password``), read-only sessions, nothing granted yet."""
    exists = con.execute("select 1 from pg_roles where rolname = %s", [BI_ROLE]).fetchone()
    role = sql.Identifier(BI_ROLE)
    if not exists:
        con.execute(sql.SQL("create role {} nosuperuser nocreatedb nocreaterole noinherit").format(role))
    if password:
        con.execute(sql.SQL("alter role {} login password {}").format(role, sql.Literal(password)))
    else:
        log.warning("%s is not set: role %s exists but cannot log in", BI_PASSWORD_ENV, BI_ROLE)
        con.execute(sql.SQL("alter role {} nologin").format(role))
    con.execute(sql.SQL("alter role {} set default_transaction_read_only = on").format(role))
    database = con.execute("select current_database()").fetchone()
    assert database is not None
    con.execute(sql.SQL("grant connect on database {} to {}").format(sql.Identifier(database[0]), role))
    con.execute(sql.SQL("revoke create on schema public from public"))


def _drop_leftovers(con: psycopg.Connection[Any]) -> None:
    for schema in _schemas(con, NEW_PREFIX):
        log.warning("dropping schema %s, left by an interrupted publication", schema)
        con.execute(sql.SQL("drop schema {} cascade").format(sql.Identifier(schema)))


def stage(
    url: str,
    reporting_file: Path,
    publication_id: int,
    tables: tuple[str, ...],
    bi_password: str | None,
    on_step: Callable[[str], None] | None = None,
) -> dict[str, int]:
    """COPY every table of ``reporting_file`` into ``reporting_new_<id>``; verify; return row counts.

    ``bi_password`` is the password of the read-only BI role (None: it cannot log in).

    ``on_step`` is called with ``pg_copying`` after the COPY of each table (uncommitted)
    and with ``pg_loaded`` once the whole load is committed.
    """
    schema = f"{NEW_PREFIX}{publication_id}"
    counts: dict[str, int] = {}
    with connect(url) as con, duckdb.connect(str(reporting_file), read_only=True) as duck:
        con.execute("select pg_advisory_lock(%s)", [LOCK_KEY])
        _drop_leftovers(con)
        ensure_bi_role(con, bi_password)
        con.commit()
        ident = sql.Identifier(schema)
        con.execute(sql.SQL("create schema {}").format(ident))
        con.execute(sql.SQL("revoke all on schema {} from public").format(ident))
        con.execute(
            sql.SQL("alter default privileges in schema {} grant select on tables to {}").format(
                ident, sql.Identifier(BI_ROLE)
            )
        )
        for table in (*tables, "publication_log"):
            columns = duck.execute(f'describe main."{table}"').fetchall()
            definition = sql.SQL(", ").join(
                sql.SQL("{} {}").format(sql.Identifier(c[0]), sql.SQL(_pg_type(str(c[1])))) for c in columns
            )
            target = sql.Identifier(schema, table)
            con.execute(sql.SQL("create table {} ({})").format(target, definition))
            names = sql.SQL(", ").join(sql.Identifier(c[0]) for c in columns)
            result = duck.execute(f'select * from main."{table}"')
            with con.cursor().copy(sql.SQL("copy {} ({}) from stdin").format(target, names)) as copy:
                while batch := result.fetchmany(10_000):
                    for row in batch:
                        copy.write_row(row)
            if on_step:
                on_step("pg_copying")
            expected = duck.execute(f'select count(*) from main."{table}"').fetchone()
            found = con.execute(sql.SQL("select count(*) from {}").format(target)).fetchone()
            if not expected or not found or found[0] != expected[0]:
                raise PostgresPublishError(f"{schema}.{table}: {found} rows loaded, {expected} in the reporting file")
            counts[table] = int(found[0])
        con.commit()
    if on_step:
        on_step("pg_loaded")
    return counts


def _grant(con: psycopg.Connection[Any], schema: str) -> None:
    role, ident = sql.Identifier(BI_ROLE), sql.Identifier(schema)
    con.execute(sql.SQL("grant usage on schema {} to {}").format(ident, role))
    con.execute(sql.SQL("grant select on all tables in schema {} to {}").format(ident, role))


def _revoke(con: psycopg.Connection[Any], schema: str) -> None:
    role, ident = sql.Identifier(BI_ROLE), sql.Identifier(schema)
    con.execute(sql.SQL("revoke all on all tables in schema {} from {}").format(ident, role))
    con.execute(sql.SQL("revoke all on schema {} from {}").format(ident, role))


def _swap_in(con: psycopg.Connection[Any], incoming: str) -> int | None:
    """In one transaction: ``reporting`` -> ``reporting_prev_<id>``, ``incoming`` -> ``reporting``."""
    deadline = time.monotonic() + SWAP_WAIT_SECONDS
    attempt = 0
    while True:
        attempt += 1
        try:
            with con.transaction():
                con.execute(sql.SQL("set local lock_timeout = {}").format(sql.Literal(SWAP_LOCK_TIMEOUT)))
                old = current_publication_id(con)
                tables = con.execute(
                    "select tablename from pg_tables where schemaname = %s order by tablename", [SCHEMA]
                ).fetchall()
                if tables:
                    # Wait for running readers, keep new ones out until the swap commits.
                    names = sql.SQL(", ").join(sql.Identifier(SCHEMA, t[0]) for t in tables)
                    con.execute(sql.SQL("lock table {} in access exclusive mode").format(names))
                exists = con.execute("select 1 from pg_namespace where nspname = %s", [SCHEMA]).fetchone()
                if exists:
                    parked = f"{PREV_PREFIX}{old if old is not None else 0}"
                    if parked in _schemas(con, parked):
                        con.execute(sql.SQL("drop schema {} cascade").format(sql.Identifier(parked)))
                    _revoke(con, SCHEMA)
                    con.execute(
                        sql.SQL("alter schema {} rename to {}").format(sql.Identifier(SCHEMA), sql.Identifier(parked))
                    )
                con.execute(
                    sql.SQL("alter schema {} rename to {}").format(sql.Identifier(incoming), sql.Identifier(SCHEMA))
                )
                _grant(con, SCHEMA)
                return old
        except (psycopg.errors.LockNotAvailable, psycopg.errors.DeadlockDetected) as exc:
            if time.monotonic() >= deadline:
                raise PostgresPublishError(
                    f"could not swap {incoming} in within {SWAP_WAIT_SECONDS:.0f} s ({attempt} attempts): "
                    "BI queries hold locks on the reporting tables; the previous publication stays"
                ) from exc
            log.info("swap attempt %d backed off for readers: %s", attempt, exc)
            time.sleep(min(0.1 * attempt, 2.0))


def _prune(con: psycopg.Connection[Any], keep: int) -> None:
    kept = sorted(_schemas(con, PREV_PREFIX), key=lambda s: int(s.removeprefix(PREV_PREFIX) or 0))
    for schema in kept[: max(len(kept) - keep, 0)]:
        log.info("dropping old publication schema %s", schema)
        con.execute(sql.SQL("drop schema {} cascade").format(sql.Identifier(schema)))
    con.commit()


def swap(url: str, publication_id: int, keep: int) -> None:
    """Swap the staged ``reporting_new_<id>`` in for ``reporting`` and prune old schemas."""
    with connect(url) as con:
        con.execute("select pg_advisory_lock(%s)", [LOCK_KEY])
        con.commit()
        old = _swap_in(con, f"{NEW_PREFIX}{publication_id}")
        log.info("PostgreSQL reporting: publication %s replaced by %d", old, publication_id)
        _prune(con, keep)


def publications(url: str) -> list[int]:
    """Kept publication ids in PostgreSQL (``reporting_prev_*``), plus the current one."""
    with connect(url) as con:
        ids = [
            int(s.removeprefix(PREV_PREFIX))
            for s in _schemas(con, PREV_PREFIX)
            if s.removeprefix(PREV_PREFIX).isdigit()
        ]
        current = current_publication_id(con)
    return sorted({*ids, *([current] if current is not None else [])})


def rollback(url: str, publication_id: int, keep: int) -> None:
    """Put the kept schema ``reporting_prev_<id>`` back as ``reporting`` in one transaction."""
    with connect(url) as con:
        con.execute("select pg_advisory_lock(%s)", [LOCK_KEY])
        con.commit()
        source = f"{PREV_PREFIX}{publication_id}"
        if source not in _schemas(con, source):
            raise PostgresPublishError(f"publication {publication_id} is not kept in PostgreSQL (no schema {source})")
        staged = f"{NEW_PREFIX}{publication_id}"
        con.commit()
        with con.transaction():
            con.execute(sql.SQL("alter schema {} rename to {}").format(sql.Identifier(source), sql.Identifier(staged)))
        _swap_in(con, staged)
        _prune(con, keep)
