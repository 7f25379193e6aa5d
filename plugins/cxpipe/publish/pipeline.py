"""Write → audit → publish the reporting tables to every target, all or nothing; roll back.

:func:`publish` runs the steps in this order, so that a failure or a kill at any
step leaves every target with its previous publication:

1. the new DuckDB reporting file is built from the audited build and verified
   (:mod:`cxpipe.publish.duckdb_file`; steps ``loaded``, ``verified``);
2. when ``CX_REPORTING_POSTGRES_URL`` is set, it is loaded into a fresh PostgreSQL
   schema (:mod:`cxpipe.publish.postgres`; steps ``pg_copying``, ``pg_loaded``);
3. the file is swapped in and kept for rollback, then the PostgreSQL schema is swapped in.

Every attempt is recorded in the operations ``publication_log``
(:mod:`cxpipe.publish.attempts`). This is the only module that knows both
targets; they do not import it.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import ParamSpec, TypeVar

from cxpipe.contracts import REPORTING_TABLES
from cxpipe.locks import LockHeldError, hold
from cxpipe.publish import duckdb_file, postgres
from cxpipe.publish.attempts import record_attempt
from cxpipe.publish.duckdb_file import KEEP_ENV, PublishError, archived, current_publication_id
from cxpipe.settings import Settings
from cxpipe.warehouse import connect_ops, release_inprocess_dbt, tables_expected_empty

log = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True)
class Publication:
    publication_id: int
    path: Path
    row_counts: dict[str, int]
    #: tables published empty because the deployment's sources cannot feed them: table -> reason
    skipped_tables: dict[str, str] = field(default_factory=dict)


def _next_publication_id(settings: Settings) -> int:
    """Larger than any id ever used, even by publications that were rolled back."""
    used = [current_publication_id(settings.reporting_db) or 0, *archived(settings)]
    with connect_ops(settings.warehouse_dir) as con:
        row = con.execute("select max(publication_id) from publication_log").fetchone()
    used.append(int(row[0]) if row and row[0] is not None else 0)
    return max(used) + 1


def _one_at_a_time(step: Callable[P, R]) -> Callable[P, R]:
    """Run ``step`` (a publication or a rollback) holding the data folder's ``publish`` lock.

    A second one is refused with :class:`cxpipe.locks.LockHeldError`, naming the holder, and
    recorded as a failed attempt; it never touches the files of the one in progress.
    """

    @functools.wraps(step)
    def holding(*args: P.args, **kwargs: P.kwargs) -> R:
        settings = args[0]
        assert isinstance(settings, Settings)
        run_id = kwargs.get("run_id")
        try:
            with hold(settings.warehouse_dir, "publish", f"{step.__name__} run_id={run_id}"):
                return step(*args, **kwargs)
        except LockHeldError as exc:
            record_attempt(settings, "failed", target="all", run_id=str(run_id) if run_id else None, reason=str(exc))
            raise

    return holding


@_one_at_a_time
def publish(
    settings: Settings,
    *,
    gate_status: str,
    gate_checks: int | None = None,
    run_id: str | None = None,
    data_interval_start: datetime | None = None,
    data_interval_end: datetime | None = None,
    tables: tuple[str, ...] = REPORTING_TABLES,
    on_step: Callable[[str], None] | None = None,
) -> Publication:
    """Build a new reporting file from the build warehouse, verify it and swap it in.

    One publication (or rollback) at a time per data folder (:func:`_one_at_a_time`).

    ``on_step``, when given, is called with the name of each step as it is reached:
    ``loaded`` (tables copied into the new file), ``verified`` (new file verified and
    closed) and, with PostgreSQL, ``pg_copying`` (after the COPY of each table, before
    its commit) and ``pg_loaded`` (the load committed, not yet swapped in). Nothing
    has been swapped in at any of them.
    """
    keep = settings.publish.keep_publications
    target = settings.reporting_db
    target.parent.mkdir(parents=True, exist_ok=True)
    if not settings.build_db.exists():
        raise PublishError(f"{settings.build_db} does not exist: run the dbt build first")
    release_inprocess_dbt()
    duckdb_file.remove_leftovers(target)
    publication_id = _next_publication_id(settings)
    tmp = duckdb_file.new_file_path(target)
    log_row = [datetime.now(UTC), data_interval_start, data_interval_end, run_id, gate_status, gate_checks]
    url = settings.publish.reporting_postgres_url
    allowed_empty = tables_expected_empty(settings)
    try:
        counts = duckdb_file.build_file(settings, tmp, publication_id, tables, log_row, on_step, allowed_empty)
        if on_step:
            on_step("verified")
        if url:  # load PostgreSQL before swapping anything, so a failed load changes neither target
            postgres.stage(url, tmp, publication_id, tables, settings.publish.bi_password, on_step)
        duckdb_file.replace_atomically(tmp, target)
    except BaseException as exc:
        record_attempt(settings, "failed", target="all", publication_id=publication_id, run_id=run_id, reason=str(exc))
        if isinstance(exc, postgres.PostgresPublishError):
            raise PublishError(f"{exc}; nothing was published") from exc
        raise
    finally:
        duckdb_file.remove_new_file(tmp)
    duckdb_file.archive(settings, publication_id, keep)
    skipped = {t: reason for t, reason in allowed_empty.items() if counts.get(t) == 0}
    for table, reason in skipped.items():
        log.warning("%s published empty: %s", table, reason)
    record_attempt(
        settings,
        "published",
        target="duckdb",
        publication_id=publication_id,
        run_id=run_id,
        row_counts=counts,
        skipped_tables=skipped,
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
            settings,
            "published",
            target="postgres",
            publication_id=publication_id,
            run_id=run_id,
            row_counts=counts,
            skipped_tables=skipped,
        )
    log.info("published #%d to %s: %s", publication_id, target, counts)
    return Publication(publication_id, target, counts, skipped)


@_one_at_a_time
def rollback(settings: Settings, publication_id: int | None = None) -> int:
    """Put a kept publication back in place (default: the one before the current one)."""
    keep = settings.publish.keep_publications
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
    url = settings.publish.reporting_postgres_url
    if url and publication_id not in postgres.publications(url):
        raise PublishError(f"publication {publication_id} is not kept in PostgreSQL; nothing was rolled back")
    duckdb_file.restore(settings, publication_id, kept[publication_id])
    record_attempt(settings, "rolled_back", target="duckdb", publication_id=publication_id, reason=f"from {current}")
    if url:
        postgres.rollback(url, publication_id, keep)
        record_attempt(settings, "rolled_back", target="postgres", publication_id=publication_id)
    log.info("rolled back reporting from publication %s to %d", current, publication_id)
    return publication_id
